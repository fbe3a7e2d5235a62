/**
 * Building blocks the pages share: charts in a labelled figure, CSV download
 * buttons, accessible tables and KPI cards.
 */
import { downloadCsv, getJson, type Query } from './api.ts';
import { drawChart, loadRuntime } from './chart-runtime.ts';
import { type ChartSpec, chartLabel } from './chart-spec.ts';
import { type Child, h } from './dom.ts';
import { announce, reportFailure } from './notices.ts';

export interface CsvExport {
  /** API path of the CSV, e.g. `/v1/channels/1/growth.csv`. */
  path: string;
  query: Query;
  /** What the button says after "Download", e.g. "growth CSV". */
  label: string;
  filename: string;
}

/** The CSV export of a channel route (`growth`, `posts/top`, …): `<route>.csv` with the page's query. */
export function channelCsv(channelId: string, route: string, query: Query, label: string): CsvExport {
  return {
    path: `/v1/channels/${channelId}/${route}.csv`,
    query,
    label,
    filename: `${channelId}-${route.replaceAll('/', '-')}.csv`,
  };
}

/** A button that downloads a CSV export with the caller's key. */
export function csvButton(csv: CsvExport): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'secondary' }, `Download ${csv.label}`);
  button.addEventListener('click', () => {
    button.disabled = true;
    announce(`Downloading ${csv.label}…`);
    downloadCsv(csv.path, csv.query, csv.filename)
      .then(() => announce(`Downloaded ${csv.label}.`))
      .catch(reportFailure)
      .finally(() => {
        button.disabled = false;
      });
  });
  return button;
}

export interface ChartSource {
  /** The chart's name (`growth`, `best-time`, …): the container's `data-chart`. */
  name: string;
  /** API path of the spec, e.g. `/v1/channels/1/charts/growth.json`. */
  path: string;
  query?: Query;
  /** Share reports fetch their charts without a key. */
  anonymous?: boolean;
  /** Said until the spec's own description arrives. */
  label: string;
  /** The same data as a table, for readers who cannot see the chart. */
  csv?: CsvExport;
  /** A sentence under the chart. */
  caption?: Child;
}

const prefersDark = () => matchMedia('(prefers-color-scheme: dark)').matches;
/** A phone: charts narrower than the server's images (they span the page there). */
const isNarrow = () => matchMedia('(max-width: 600px)').matches;

/** A figure whose chart is fetched and drawn in the background; failures show in place and in the alert region. */
export function chartFigure(src: ChartSource): HTMLElement {
  const box = h('div', {
    class: 'chart-box',
    'data-chart': src.name,
    role: 'img',
    'aria-label': `${src.label} (loading)`,
    'aria-busy': 'true',
  });
  const figure = h(
    'figure',
    { class: 'chart' },
    box,
    h('figcaption', {}, src.caption ?? null, src.csv ? [' ', csvButton(src.csv)] : null),
  );
  // The runtime's download is started now, beside the spec's: a load failure surfaces in drawChart.
  loadRuntime().catch(() => {});
  // The API fits the spec to this page's look and compiles it (read/charts/page-look.ts).
  const look = `${prefersDark() ? 'dark' : 'light'}${isNarrow() ? '-narrow' : ''}`;
  getJson<ChartSpec>(src.path, { ...src.query, look }, { anonymous: src.anonymous ?? false })
    .then(async (spec) => {
      box.setAttribute('aria-label', chartLabel(spec, src.label));
      await drawChart(box, spec);
    })
    .catch((err: unknown) => {
      box.replaceChildren(h('p', { class: 'chart-error' }, `${src.label}: the chart could not be drawn.`));
      box.setAttribute('aria-label', `${src.label}: not available`);
      reportFailure(err);
    })
    .finally(() => box.removeAttribute('aria-busy'));
  return figure;
}

export interface Column<R> {
  header: string;
  cell: (row: R) => Child;
  /** Right-aligned (figures). */
  numeric?: boolean;
  /** Sentences that wrap (other cells stay on one line). */
  prose?: boolean;
  /** The row's header cell (`<th scope="row">`). */
  rowHeader?: boolean;
}

const cellClass = (c: { numeric?: boolean; prose?: boolean }) => (c.numeric ? 'num' : c.prose ? 'prose' : undefined);

/** A table with a caption and scoped headers, scrolling inside its own box on a narrow screen. */
export function dataTable<R>(caption: string, columns: Column<R>[], rows: readonly R[], empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  const table = h(
    'table',
    {},
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : undefined }, c.header)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          columns.map((c) =>
            c.rowHeader
              ? h('th', { scope: 'row', class: cellClass(c) }, c.cell(r))
              : h('td', { class: cellClass(c) }, c.cell(r)),
          ),
        ),
      ),
    ),
  );
  // Focusable so a keyboard user can scroll a wide table; labelled by its caption.
  return h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': caption }, table);
}

/** A page section with a heading (the landmark screen readers list). */
export function section(id: string, title: string, ...children: (Child | Child[])[]): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': `${id}-title`, class: 'card' },
    h('h2', { id: `${id}-title` }, title),
    ...children,
  );
}
