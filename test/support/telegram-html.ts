/**
 * Telegram's HTML subset as the bot must write it: only the tags Telegram
 * knows, balanced, attributes only on links, and no stray `<`, `>` or `&`
 * outside tags and entities (Telegram refuses such a message outright).
 */
import { expect } from 'vitest';

/** What is wrong with `text` as Telegram HTML, or null when it is well formed. */
export function htmlProblem(text: string): string | null {
  const open: string[] = [];
  let problem: string | null = null;
  const rest = text.replace(
    /<(\/?)(b|i|u|s|code|pre|a)((?: href="[^"<>]*")?)>/g,
    (_, close: string, tag: string, attrs: string) => {
      if (close) {
        const last = open.pop();
        if (last !== tag) problem ??= `closing </${tag}> where <${last ?? 'nothing'}> is open`;
      } else {
        if (attrs !== '' && tag !== 'a') problem ??= `attributes on <${tag}>`;
        open.push(tag);
      }
      return '';
    },
  );
  if (problem) return problem;
  if (open.length) return `unclosed tags ${open.join(', ')}`;
  const stray = /[<>]|&(?!(amp|lt|gt|quot);)/.exec(rest);
  return stray ? `stray markup "${stray[0]}" at ${stray.index} of the text outside tags` : null;
}

/** Fails the test, quoting the text, unless it is well-formed Telegram HTML. */
export function expectWellFormedHtml(text: string): void {
  expect(htmlProblem(text), text).toBeNull();
}
