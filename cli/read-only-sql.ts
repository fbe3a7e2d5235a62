/**
 * A friendlier message for `tgpulse query`: one read-only statement. This is
 * not the protection: the query runs as the warehouse's `reader`, whom the
 * engine allows only SELECT and SHOW (see clickhouse/local-server/).
 */
const READ_KEYWORDS = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN', 'EXISTS']);

export class ReadOnlySqlError extends Error {
  override name = 'ReadOnlySqlError';
}

/** Returns the statement without a trailing semicolon, or throws saying why it is refused. */
export function checkReadOnlySql(sql: string): string {
  const text = sql.replace(/^(\s+|--[^\n]*\n?|\/\*[\s\S]*?\*\/)+/, '').replace(/[\s;]+$/, '');
  if (!text)
    throw new ReadOnlySqlError(
      'empty query: pass one SELECT statement, e.g. tgpulse query "SELECT count() FROM raw_post_counters"',
    );
  const keyword = /^[A-Za-z]+/.exec(text)?.[0]?.toUpperCase() ?? '';
  if (!READ_KEYWORDS.has(keyword))
    throw new ReadOnlySqlError(
      `only read-only statements are allowed (${[...READ_KEYWORDS].join(', ')}); got ${keyword || JSON.stringify(text.slice(0, 20))}`,
    );
  if (stripLiterals(text).includes(';')) throw new ReadOnlySqlError('only one statement is allowed');
  if (/\bINTO\s+OUTFILE\b/i.test(stripLiterals(text))) throw new ReadOnlySqlError('INTO OUTFILE is not allowed');
  return text;
}

/** Removes quoted strings and identifiers so `;` inside them is not taken for a separator. */
function stripLiterals(sql: string): string {
  return sql.replace(/'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''");
}
