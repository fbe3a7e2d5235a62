/** Renders rows as an aligned text table for the terminal. */
export function renderTable(rows: readonly Record<string, unknown>[]): string {
  if (!rows.length) return '(no rows)\n';
  const columns = Object.keys(rows[0]);
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    // Keep one row per line whatever the data holds.
    return s.replace(/[\r\n\t]/g, ' ');
  };
  const body = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...body.map((r) => r[i].length))));
  const fitCell = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
  const line = (cells: string[]) =>
    cells
      .map((s, i) => fitCell(s, widths[i]))
      .join('  ')
      .trimEnd();
  return (
    [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') +
    `\n(${rows.length} rows)\n`
  );
}
