/** Two small inline SVG charts, drawn from the numbers alone: no chart library. */
import { h, svg } from './dom.js';
import { formatNumber } from './ui.js';

const WIDTH = 560;
/** SVG coordinates to one decimal: enough for a chart, and short in the DOM. */
const at = (value: number): number => Math.round(value * 10) / 10;
const ROW = 26;
const LABEL = 150;
const VALUE = 70;

/** Horizontal bars, one per label, scaled to the largest count. */
export function barChart(title: string, entries: readonly (readonly [string, number])[]): Element {
  if (entries.length === 0) return h('p', { class: 'muted' }, `${title}: nothing recorded yet.`);
  const max = Math.max(...entries.map(([, value]) => value), 1);
  const span = WIDTH - LABEL - VALUE;
  const chart = svg('svg', {
    class: 'chart',
    role: 'img',
    'aria-label': `${title}: ${entries.map(([label, value]) => `${label} ${value}`).join(', ')}`,
    viewBox: `0 0 ${WIDTH} ${entries.length * ROW + 4}`,
    width: WIDTH,
    height: entries.length * ROW + 4,
  });
  entries.forEach(([label, value], index) => {
    const y = index * ROW + 4;
    chart.append(
      svg('text', { x: 0, y: y + 15 }, label),
      svg('rect', {
        class: 'bar',
        x: LABEL,
        y,
        height: ROW - 8,
        width: at(Math.max(1, (value / max) * span)),
        rx: 2,
      }),
      svg('text', { x: at(LABEL + (value / max) * span + 6), y: y + 15 }, formatNumber(value)),
    );
  });
  return chart;
}

export interface Range {
  readonly name: string;
  readonly min: number;
  readonly mean: number;
  readonly max: number;
}

/**
 * One line per metric from its min to its max with a dot at the mean. Metrics have unrelated units,
 * so each line is scaled to its own range; the numbers are printed beside it.
 */
export function rangeChart(title: string, ranges: readonly Range[]): Element {
  if (ranges.length === 0) return h('p', { class: 'muted' }, `${title}: no metrics recorded yet.`);
  const span = WIDTH - LABEL - 20;
  const chart = svg('svg', {
    class: 'chart',
    role: 'img',
    'aria-label': `${title}: ${ranges.map((r) => `${r.name} min ${formatNumber(r.min)} mean ${formatNumber(r.mean)} max ${formatNumber(r.max)}`).join('; ')}`,
    viewBox: `0 0 ${WIDTH} ${ranges.length * ROW * 1.5 + 16}`,
    width: WIDTH,
    height: ranges.length * ROW * 1.5 + 16,
  });
  ranges.forEach((range, index) => {
    const y = index * ROW * 1.5 + 22;
    const width = range.max - range.min;
    const meanX = at(LABEL + (width === 0 ? span / 2 : ((range.mean - range.min) / width) * span));
    chart.append(
      svg('text', { x: 0, y: y + 4 }, range.name),
      svg('line', { class: 'range', x1: LABEL, x2: LABEL + span, y1: y, y2: y }),
      svg('circle', { class: 'mean', cx: meanX, cy: y, r: 5 }),
      svg('text', { x: LABEL, y: y + 18 }, formatNumber(range.min)),
      svg('text', { x: LABEL + span, y: y + 18, 'text-anchor': 'end' }, formatNumber(range.max)),
      svg('text', { x: meanX, y: y - 8, 'text-anchor': 'middle' }, `mean ${formatNumber(range.mean)}`),
    );
  });
  return chart;
}
