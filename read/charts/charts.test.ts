import { describe, expect, it } from 'vitest';

import { oneLine, periodLabel } from './labels.ts';
import { assertChartFonts, ChartFontsMissingError, ChartRenderError, compileChart, renderChart } from './render.ts';
import { bestTimeChart, WEEKDAYS } from './best-time-chart.ts';
import { postTimelineChart } from './post-chart.ts';
import {
  SAMPLE_FRAME,
  sampleAlert,
  sampleAnomalies,
  sampleBestTime,
  sampleGrowth,
  samplePostTimeline,
  sampleReach,
  sampleViews,
} from './sample-data.ts';
import { anomaliesChart, forecastChart, growthChart, NO_DATA_TEXT, reachChart, viewsChart } from './specs.ts';
import type { ChartFrame } from './types.ts';
import type { TopLevelSpec } from 'vega-lite';
import { DAY_MS, HOUR_MS } from '../../common/time.ts';

/** The text of every `<text>` element, entities decoded: what a reader sees. */
function svgTexts(svg: string): string[] {
  const decode = (s: string): string =>
    s
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;|&#x27;/g, "'")
      .replace(/&amp;/g, '&');
  return Array.from(svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g), (m) => decode(m[1]));
}

/** The data of a spec's layers as a client receives them: JSON (Vega tags the rows it drew with symbols). */
function layerValues(spec: TopLevelSpec): object[][] {
  const { layer } = JSON.parse(JSON.stringify(spec)) as { layer: Array<{ data: { values: object[] } }> };
  return layer.map((l) => l.data.values);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from the IHDR chunk, which a PNG must start with. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const { series, band, anomalies } = sampleAnomalies();

interface ChartCase {
  name: string;
  build: (frame: ChartFrame) => TopLevelSpec;
  empty: (frame: ChartFrame) => TopLevelSpec;
  title: string;
  axisTitles: string[];
  legend: string[];
}

const cases: ChartCase[] = [
  {
    name: 'growth',
    build: (frame) => growthChart(frame, sampleGrowth(frame)),
    empty: (frame) => growthChart(frame, []),
    title: 'Subscriber growth',
    axisTitles: ['Subscribers', 'Change per day', 'Date (UTC)'],
    legend: ['Subscribers', 'Gained', 'Lost'],
  },
  {
    name: 'reach',
    build: (frame) => reachChart(frame, sampleReach(frame)),
    empty: (frame) => reachChart(frame, []),
    title: 'Reach per post',
    axisTitles: ['Views per post', 'Posts per day', 'Date (UTC)'],
    legend: ['Views per post', 'Posts'],
  },
  {
    name: 'views',
    build: (frame) => viewsChart(frame, sampleViews(frame)),
    empty: (frame) => viewsChart(frame, []),
    title: 'Views, forwards and reactions',
    axisTitles: ['Views per day', 'Forwards & reactions per day', 'Date (UTC)'],
    legend: ['Views', 'Forwards', 'Reactions'],
  },
  {
    name: 'anomalies',
    build: (frame) => anomaliesChart(frame, 'views', series, anomalies, band),
    empty: (frame) => anomaliesChart(frame, 'views', [], []),
    title: 'Anomalies: Views',
    axisTitles: ['Views per day', 'Date (UTC)'],
    legend: ['Observed', 'Expected range', 'Warning', 'Critical'],
  },
];

describe.each(cases)('$name chart', (c) => {
  it('compiles without Vega-Lite warnings (none of its encodings is dropped)', () => {
    expect(compileChart(c.build(SAMPLE_FRAME)).warnings).toEqual([]);
  });

  it('shows title, channel and period, axis titles with units, UTC date ticks and the legend', async () => {
    const texts = svgTexts(await renderChart(c.build(SAMPLE_FRAME), 'svg'));
    expect(texts).toContain(c.title);
    expect(texts).toContain('Tech Digest Daily · Jan 01 – Jan 31, 2024 UTC');
    for (const title of c.axisTitles) expect(texts).toContain(title);
    // Weekly ticks on Mondays, formatted "%b %d" in UTC.
    expect(texts).toEqual(expect.arrayContaining(['Jan 01', 'Jan 08', 'Jan 15', 'Jan 22', 'Jan 29']));
    for (const entry of c.legend) expect(texts).toContain(entry);
  });

  it('renders PNGs of the requested size on a white background', async () => {
    expect(pngSize(await renderChart(c.build(SAMPLE_FRAME), 'png'))).toEqual({ width: 800, height: 400 });
    const bot = { ...SAMPLE_FRAME, width: 640, height: 320 };
    expect(pngSize(await renderChart(c.build(bot), 'png'))).toEqual({ width: 640, height: 320 });
  });

  it('says there is no data when the period is empty, under the same title', async () => {
    const svg = await renderChart(c.empty(SAMPLE_FRAME), 'svg');
    expect(svgTexts(svg)).toEqual(expect.arrayContaining([c.title, NO_DATA_TEXT]));
    expect(pngSize(await renderChart(c.empty(SAMPLE_FRAME), 'png'))).toEqual({ width: 800, height: 400 });
  });

  it('describes itself for screen readers: title, channel, period and what the marks show', () => {
    const { description } = c.build(SAMPLE_FRAME);
    expect(description).toMatch(new RegExp(`^${c.title}, Tech Digest Daily · Jan 01 – Jan 31, 2024 UTC\\. \\S`));
    expect(c.empty(SAMPLE_FRAME).description).toContain(NO_DATA_TEXT);
  });
});

describe('best-time heatmap', () => {
  const cells = sampleBestTime();
  const spec = bestTimeChart(SAMPLE_FRAME, 'Europe/Berlin', cells);

  it('compiles without warnings, at the API size and the smallest one', () => {
    expect(compileChart(spec).warnings).toEqual([]);
    const small = bestTimeChart({ ...SAMPLE_FRAME, width: 320, height: 200 }, 'UTC', cells);
    expect(compileChart(small).warnings).toEqual([]);
  });

  it('has an hour axis in the chosen zone, Monday to Sunday down, and names the zone in the subtitle', async () => {
    const texts = svgTexts(await renderChart(spec, 'svg'));
    expect(texts).toContain('Best time to post');
    expect(texts).toContain('Tech Digest Daily · Jan 01 – Jan 31, 2024 UTC · hours in Europe/Berlin');
    expect(texts).toContain('Hour of publishing (Europe/Berlin)');
    expect(texts).toEqual(expect.arrayContaining([...WEEKDAYS, '0', '12', '23', 'Engagement rate']));
    expect(pngSize(await renderChart(spec, 'png'))).toEqual({ width: 800, height: 400 });
  });

  it('draws one coloured cell per hour with posts, with its posts for the tooltip, on a grey week', () => {
    const [grid, heat] = layerValues(spec);
    expect(grid).toHaveLength(7 * 24);
    expect(heat).toEqual(
      cells.map((c) => ({
        day: WEEKDAYS[c.dayOfWeek - 1],
        hour: c.hour,
        posts: c.posts,
        avgViews: c.avgViews,
        engagementRate: c.engagementRate,
      })),
    );
    expect(JSON.stringify(spec)).toContain('"title":"Posts"');
    // The evening posts engage most (see sampleBestTime).
    expect(spec.description).toMatch(/ at 18:00 \(\d posts\)\.$/);
  });

  it('says there is no data for a channel without old enough posts, still naming the zone', async () => {
    const texts = svgTexts(await renderChart(bestTimeChart(SAMPLE_FRAME, 'Asia/Tokyo', []), 'svg'));
    expect(texts).toEqual(expect.arrayContaining(['Best time to post', NO_DATA_TEXT]));
    expect(texts.some((t) => t.endsWith('hours in Asia/Tokyo'))).toBe(true);
  });
});

describe('post timeline', () => {
  const life = {
    ...SAMPLE_FRAME,
    from: Date.UTC(2024, 0, 5, 13),
    to: Date.UTC(2024, 0, 8, 13),
    granularity: 'hour' as const,
  };
  const points = samplePostTimeline();
  const spec = postTimelineChart(life, 4242, points);

  it('compiles without warnings', () => {
    expect(compileChart(spec).warnings).toEqual([]);
  });

  it("shows the post's counters against hours since publication, views on their own axis", async () => {
    const texts = svgTexts(await renderChart(spec, 'svg'));
    expect(texts).toEqual(
      expect.arrayContaining([
        'Post 4242: views, forwards and reactions',
        'Tech Digest Daily · Jan 05 13:00 – Jan 08 13:00, 2024 UTC',
        'Hours since publication',
        'Views',
        'Forwards & reactions',
        'Forwards',
        'Reactions',
        '10k',
      ]),
    );
    const [views] = layerValues(spec);
    expect(views).toEqual(points.map((p) => ({ age: p.ageHours, views: p.views })));
    expect(spec.description).toContain('11,998 views, 90 forwards and 240 reactions at 72 hours');
  });

  it('says there is no data for a post never observed after publication', async () => {
    const texts = svgTexts(await renderChart(postTimelineChart(life, 7, []), 'svg'));
    expect(texts).toEqual(expect.arrayContaining(['Post 7: views, forwards and reactions', NO_DATA_TEXT]));
  });
});

describe('forecast chart', () => {
  it('describes its forecast, or the lack of one', () => {
    const history = sampleGrowth().map((p) => ({ t: p.t, value: p.subscribers }));
    expect(forecastChart(SAMPLE_FRAME, 'Subscribers', history, []).description).toContain('too little history');
  });
});

describe('text from users', () => {
  const hostile = `<script>alert("x")</script> 'single' & "double" 🚀🔥 ${'very long channel name '.repeat(200)}`;

  it('is escaped in the SVG, kept on one line, stripped of emoji and cut short', async () => {
    const frame = { ...SAMPLE_FRAME, channelTitle: hostile };
    const svg = await renderChart(
      anomaliesChart(frame, `<img src=x onerror="alert(1)">_${'x'.repeat(500)}`, series, anomalies, band),
      'svg',
    );
    expect(svg).not.toMatch(/<script|<img/);
    expect(svg).toContain('&lt;script&gt;');
    const texts = svgTexts(svg);
    const subtitle = texts.find((t) => t.startsWith('<script>'));
    expect(subtitle).toMatch(
      /^<script>alert\("x"\)<\/script> 'single' & "double" [^\n]*… · Jan 01 – Jan 31, 2024 UTC$/,
    );
    expect(subtitle?.length).toBeLessThan(90);
    expect(svg).not.toMatch(/🚀|🔥/u);
    const title = texts.find((t) => t.startsWith('Anomalies: '));
    expect(title).toMatch(/^Anomalies: <img src=x [^\n]*…$/);
    expect(title?.length).toBeLessThan(60);
    expect(texts.find((t) => t.endsWith(' per day') && t.startsWith('<img'))).toMatch(/^<img src=x [^\n]*… per day$/);
  });

  it('still rasterises (the escaped SVG parses)', async () => {
    const png = await renderChart(
      growthChart({ ...SAMPLE_FRAME, channelTitle: hostile, width: 640, height: 320 }, sampleGrowth()),
      'png',
    );
    expect(pngSize(png)).toEqual({ width: 640, height: 320 });
  });

  it('is cut between graphemes, with an ellipsis', () => {
    expect(oneLine('Breaking news', 8)).toBe('Breakin…');
    expect(oneLine('short', 8)).toBe('short');
    expect(oneLine('a\n\tb  c\u0000d', 20)).toBe('a b c d');
    expect(oneLine('Новости дня', 8)).toBe('Новости…');
    expect(oneLine('e\u0301e\u0301e\u0301e\u0301', 3)).toBe('e\u0301e\u0301…');
  });
});

describe('time', () => {
  it('labels the period in UTC, naming the last day of a half-open daily frame', () => {
    expect(periodLabel(SAMPLE_FRAME)).toBe('Jan 01 – Jan 31, 2024 UTC');
    expect(periodLabel({ ...SAMPLE_FRAME, to: SAMPLE_FRAME.from + DAY_MS })).toBe('Jan 01, 2024 UTC');
    expect(
      periodLabel({ ...SAMPLE_FRAME, from: Date.UTC(2023, 11, 25), to: Date.UTC(2024, 0, 8), granularity: 'week' }),
    ).toBe('Dec 25, 2023 – Jan 07, 2024 UTC');
    expect(periodLabel({ ...SAMPLE_FRAME, granularity: 'hour', to: SAMPLE_FRAME.from + 36 * HOUR_MS })).toBe(
      'Jan 01 00:00 – Jan 02 12:00, 2024 UTC',
    );
  });

  it('draws hourly ticks in UTC whatever the machine time zone', async () => {
    const saved = process.env.TZ;
    process.env.TZ = 'Pacific/Kiritimati'; // UTC+14: local dates differ from UTC ones all day
    try {
      expect(new Date(Date.UTC(2024, 0, 16, 12)).getHours()).toBe(2);
      const alert = sampleAlert();
      const texts = svgTexts(
        await renderChart(anomaliesChart(alert.frame, 'views', alert.series, [alert.anomaly]), 'svg'),
      );
      expect(texts).toEqual(
        expect.arrayContaining(['Jan 16 00:00', 'Jan 16 12:00', 'Jan 17 00:00', 'Jan 17 12:00', 'Jan 18 00:00']),
      );
      expect(texts).toContain('Tech Digest Daily · Jan 16 00:00 – Jan 18 00:00, 2024 UTC');
      expect(texts).toContain('Views per hour');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

describe('series', () => {
  it('breaks the subscribers line where the count is unknown instead of bridging the gap', async () => {
    const svg = await renderChart(growthChart(SAMPLE_FRAME, sampleGrowth()), 'svg');
    const line = svg.match(/class="mark-line role-mark[^"]*"[^>]*>\s*<path[^>]*\bd="([^"]+)"/);
    expect(line).not.toBeNull();
    // Two unknown days in a row split the line into two runs.
    expect(line?.[1].match(/M/g)).toHaveLength(2);
  });

  it('formats counts with SI prefixes and no milli-subscribers', async () => {
    const texts = svgTexts(await renderChart(viewsChart(SAMPLE_FRAME, sampleViews()), 'svg'));
    expect(texts).toEqual(expect.arrayContaining(['100k', '200k', '2k', '0']));
    const few = growthChart(SAMPLE_FRAME, [{ t: SAMPLE_FRAME.from, subscribers: 3, gained: 1, lost: 0 }]);
    expect(svgTexts(await renderChart(few, 'svg')).filter((t) => /\d+m$/.test(t))).toEqual([]);
  });
});

describe('rendering', () => {
  it('refuses to load anything: charts draw inline data only', async () => {
    const remote: TopLevelSpec = {
      data: { url: 'https://example.com/data.json' },
      mark: 'point',
      encoding: { x: { field: 'a', type: 'quantitative' } },
    };
    await expect(renderChart(remote, 'svg')).rejects.toThrow(ChartRenderError);
    await expect(renderChart(remote, 'svg')).rejects.toThrow(
      /inline data only; refused to load https:\/\/example.com\/data.json/,
    );
  });

  it('finds a font for PNG text, and says what to install when there is none', () => {
    expect(() => assertChartFonts()).not.toThrow();
    expect(() => assertChartFonts({ loadSystemFonts: false })).toThrow(ChartFontsMissingError);
    expect(() => assertChartFonts({ loadSystemFonts: false })).toThrow(
      'PNG charts need fonts: apt-get install fonts-dejavu-core',
    );
  });

  it('rejects sizes and periods it cannot draw', () => {
    expect(() => growthChart({ ...SAMPLE_FRAME, width: 10 }, [])).toThrow(
      /width must be a whole number of pixels from 320 to 2000/,
    );
    expect(() => growthChart({ ...SAMPLE_FRAME, height: 400.5 }, [])).toThrow(RangeError);
    expect(() => growthChart({ ...SAMPLE_FRAME, to: SAMPLE_FRAME.from }, [])).toThrow(/from < to/);
  });
});
