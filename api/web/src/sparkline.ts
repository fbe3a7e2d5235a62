/**
 * Sparklines: a series as a small SVG line, gaps where a value is unknown.
 * The geometry is pure; `sparkline` wraps it in an element.
 */
import { svg } from './dom.ts';

/**
 * An SVG path through the values, scaled into `width` × `height` (higher
 * values up), a new segment after each null. Empty when fewer than two
 * values are known.
 *
 * @example
 * sparklinePath([1, 2, null, 3], 90, 24) // 'M0,24L30,12M90,0'
 */
export function sparklinePath(values: readonly (number | null)[], width: number, height: number): string {
  const known = values.filter((v): v is number => v !== null);
  if (known.length < 2) return '';
  const min = Math.min(...known);
  const span = Math.max(...known) - min;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  let path = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    const x = round(i * step);
    // A flat series is drawn across the middle.
    const y = round(span === 0 ? height / 2 : height - ((v - min) / span) * height);
    path += `${pen ? 'L' : 'M'}${x},${y}`;
    pen = true;
  });
  return path;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** A decorative sparkline: the figures it shows are in the table beside it. */
export function sparkline(values: readonly (number | null)[], width = 96, height = 24): SVGSVGElement {
  const pad = 2;
  return svg(
    'svg',
    {
      class: 'sparkline',
      width,
      height,
      viewBox: `${-pad} ${-pad} ${width + 2 * pad} ${height + 2 * pad}`,
      'aria-hidden': 'true',
      focusable: 'false',
    },
    svg('path', { d: sparklinePath(values, width, height), fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5 }),
  );
}
