import { describe, expect, it } from 'vitest';
import { bestTimeChart } from './best-time-chart.ts';
import { chartForPage, prepareSpec } from './page-look.ts';
import { growthChart } from './specs.ts';
import { SAMPLE_FRAME, sampleGrowth } from './sample-data.ts';

const serverSpec = {
  width: 800,
  height: 400,
  autosize: { type: 'fit', contains: 'padding' },
  background: 'white',
  title: { text: 'Subscriber growth', subtitle: '1001 · Nov 07 – Dec 07, 2026 UTC' },
  config: { background: 'white', axis: { labelColor: '#444', labelFontSize: 11 }, title: { fontSize: 15 } },
  layer: [],
};

describe('prepareSpec', () => {
  it('fits the chart to its container and keeps the server spec unchanged', () => {
    const before = structuredClone(serverSpec);
    const spec = prepareSpec(serverSpec, { dark: false, narrow: false });
    expect(spec).toMatchObject({ width: 'container', height: 400, autosize: { type: 'fit-x', contains: 'padding' } });
    expect(spec.background).toBe('white');
    expect(spec.title).toEqual(serverSpec.title);
    expect(serverSpec).toEqual(before);
  });

  it('in dark mode draws on a transparent background with light text, keeping the other settings', () => {
    const spec = prepareSpec(serverSpec, { dark: true, narrow: false });
    expect(spec.background).toBe('transparent');
    expect(spec.config).toMatchObject({
      background: 'transparent',
      axis: { labelFontSize: 11, labelColor: '#c4c4c4' },
      title: { fontSize: 15, color: '#e8e8e8' },
    });
  });

  it("in dark mode restyles the heatmap's empty hours and drops its white cell borders", () => {
    const heatmap = bestTimeChart(SAMPLE_FRAME, 'UTC', [
      { dayOfWeek: 1, hour: 9, posts: 2, avgViews: 100, engagementRate: 0.05 },
    ]) as unknown as Record<string, unknown>;
    const styles = (spec: Record<string, unknown>) => (spec.config as { style: Record<string, object> }).style;
    expect(styles(prepareSpec(heatmap, { dark: false, narrow: false }))).toEqual(styles(heatmap));
    const dark = styles(prepareSpec(heatmap, { dark: true, narrow: false }));
    expect(dark['empty-cell']).toMatchObject({ color: '#2c3038', stroke: 'transparent' });
    expect(dark['heat-cell']).toMatchObject({ stroke: 'transparent' });
  });

  it('stacks the subtitle on a narrow screen, one part a line', () => {
    const spec = prepareSpec(serverSpec, { dark: false, narrow: true });
    expect(spec.title).toEqual({ text: 'Subscriber growth', subtitle: ['1001', 'Nov 07 – Dec 07, 2026 UTC'] });
  });
});

describe('chartForPage', () => {
  it('compiles the fitted spec to Vega, which sizes itself to its container', () => {
    const vega = chartForPage(growthChart(SAMPLE_FRAME, sampleGrowth()), { dark: true, narrow: true }) as {
      $schema: string;
      signals?: Array<{ name: string; init?: string; update?: string }>;
      background: string;
    };
    expect(vega.$schema).toMatch(/schema\/vega\/v6/);
    expect(vega.background).toBe('transparent');
    const width = vega.signals?.find((s) => s.name === 'width');
    expect(`${width?.init} ${width?.update}`).toContain('containerSize');
  });
});
