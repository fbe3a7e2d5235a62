import { afterEach, describe, expect, it, vi } from 'vitest';
import { chooseLogFormat, createLogger } from './log.ts';

describe('the log format', () => {
  afterEach(() => void vi.restoreAllMocks());

  it('is the configured one, else pretty for a terminal and JSON for anything else', () => {
    expect(chooseLogFormat(null, true)).toBe('pretty');
    expect(chooseLogFormat(null, false)).toBe('json');
    expect(chooseLogFormat('json', true)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
  });

  it('pretty: one human-readable line per entry, fields below it', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    createLogger('info', { format: 'pretty' }).info({ channel_id: '1001234567' }, 'window closed');
    const text = written.join('');
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.* \(tgpulse\/\d+\): .*window closed/);
    expect(text).toMatch(/channel_id: "1001234567"/);
    expect(() => JSON.parse(text)).toThrow();
  });
});
