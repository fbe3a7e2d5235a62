import { describe, expect, it } from 'vitest';
import { prefersHtml } from './accept.ts';

describe('prefersHtml', () => {
  it("is true for a browser's navigation", () => {
    // Chromium's and Firefox's Accept on a page load.
    expect(
      prefersHtml(
        'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7',
      ),
    ).toBe(true);
    expect(prefersHtml('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe(true);
    expect(prefersHtml('text/*, application/json;q=0.5')).toBe(true);
  });

  it('is false for API clients: JSON asked for, no preference, or a tie', () => {
    for (const accept of [undefined, '', 'application/json', '*/*', 'text/html, application/json', 'text/csv;q=0, */*'])
      expect(prefersHtml(accept), String(accept)).toBe(false);
    expect(prefersHtml('application/json, text/html;q=0.9')).toBe(false);
    expect(prefersHtml('text/html;q=0, */*')).toBe(false);
  });

  it('reads a malformed quality as 0 rather than failing', () => {
    expect(prefersHtml('text/html;q=abc, application/json;q=0.1')).toBe(false);
    expect(prefersHtml('text/html;q=5, application/json;q=0.9')).toBe(true);
  });
});
