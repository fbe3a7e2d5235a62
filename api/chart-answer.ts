/**
 * How a chart is answered, whichever route drew it: the image (SVG or PNG)
 * or the Vega-Lite spec it is drawn from (JSON, for the web app to draw with
 * vega-embed), with the data's freshness in headers, since neither an image
 * nor a spec has room for a meta block.
 */
import { Type } from '@sinclair/typebox';
import { type TopLevelSpec, version as vegaLiteVersion } from 'vega-lite';
import { chartForPage, chartLook, type ChartLookName, renderChart } from '../read/charts/index.ts';
import type { AnswerMeta } from '../read/index.ts';

export type ChartFormat = 'svg' | 'png' | 'json';

/** Names the spec's language and major version, so vega-embed compiles it as Vega-Lite and can warn of a mismatch. */
const SCHEMA = `https://vega.github.io/schema/vega-lite/v${vegaLiteVersion.split('.')[0]}.json`;

/** The answer of every chart route, in the format its file name asks for. */
export const Chart = {
  description: 'the chart: an image, or the Vega-Lite spec it is drawn from (inline data)',
  content: {
    'image/svg+xml': { schema: Type.String() },
    'image/png': { schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }) },
    'application/json': {
      schema: Type.Unsafe<string>({
        type: 'object',
        description:
          'a Vega-Lite spec (https://vega.github.io/vega-lite/), the one the image of the same name draws; with `look`, that spec fitted to the web page and compiled to Vega',
      }),
    },
  },
};

/** `growth.png` → its chart name and format (the route's pattern has checked both). */
export function chartFile<N extends string>(file: string): { name: N; format: ChartFormat } {
  const dot = file.lastIndexOf('.');
  return { name: file.slice(0, dot) as N, format: file.slice(dot + 1) as ChartFormat };
}

interface ChartReply {
  header(name: string, value: string): unknown;
  type(contentType: string): unknown;
}

/** What a chart answer is: a format, and for a spec the web page's look ({@link chartForPage}) if any. */
interface ChartRequest {
  format: ChartFormat;
  look?: ChartLookName;
}

/** The body of a chart answer; sets its content type and freshness headers on `reply`. */
export async function chartAnswer(
  reply: ChartReply,
  spec: TopLevelSpec,
  { format, look }: ChartRequest,
  meta: AnswerMeta,
): Promise<string | Buffer> {
  reply.header('x-data-updated-at', new Date(meta.data_updated_at).toISOString());
  reply.header('x-data-sources', meta.sources.join(','));
  reply.header('x-window-open', String(meta.window_open));
  switch (format) {
    case 'json':
      // A string, so Fastify sends it as it is rather than through the route's response schema.
      reply.type('application/json; charset=utf-8');
      // Compiled Vega carries its own $schema.
      return JSON.stringify(look ? chartForPage(spec, chartLook(look)) : { $schema: SCHEMA, ...spec });
    case 'svg':
      reply.type('image/svg+xml; charset=utf-8');
      return renderChart(spec, 'svg');
    case 'png':
      reply.type('image/png');
      return renderChart(spec, 'png');
  }
}
