/**
 * Small SVG charts as strings (no DOM, no dependencies), for the self-contained report and the browser
 * demo: line chart, grouped bars with error bars, heat map. Every chart is an <svg data-plot="…"> with a
 * title, axes and a legend.
 */

export const PALETTE = ['#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3', '#937860', '#da8bc3', '#8c8c8c'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (v: number): string => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(1) : Number(v.toPrecision(3)).toString());

/** About `count` round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

interface Frame { width: number; height: number; left: number; right: number; top: number; bottom: number }

function frame(width: number, height: number, legendRows = 0): Frame {
  return { width, height, left: 56, right: 12, top: 28, bottom: 38 + 16 * legendRows };
}

function open(plot: string, title: string, f: Frame): string {
  const size = `width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}"`;
  return `<svg xmlns="http://www.w3.org/2000/svg" data-plot="${escapeXml(plot)}" role="img" aria-label="${escapeXml(title)}" ${size} ` +
    'font-family="system-ui, sans-serif" font-size="11">' +
    `<text x="${f.width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(title)}</text>`;
}

function yAxis(f: Frame, lo: number, hi: number, y: (v: number) => number, label: string): string {
  const parts = ticks(lo, hi).map((t) => `<line x1="${f.left}" x2="${f.width - f.right}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/>` +
    `<text x="${f.left - 4}" y="${y(t) + 3}" text-anchor="end">${fmt(t)}</text>`);
  parts.push(`<text transform="translate(12 ${(f.top + f.height - f.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(label)}</text>`);
  return parts.join('');
}

/** Legend items flowed left to right, wrapping at the chart's width: [x, row] per item. */
function legendLayout(width: number, items: { label: string }[]): { at: [number, number][]; rows: number } {
  const at: [number, number][] = [];
  let x = 56, row = 0;
  for (const it of items) {
    const w = 32 + 6.2 * it.label.length;
    if (x > 56 && x + w > width - 8) { x = 56; row++; }
    at.push([x, row]);
    x += w;
  }
  return { at, rows: items.length ? row + 1 : 0 };
}

function legend(f: Frame, items: { label: string; color: string; dash?: boolean }[]): string {
  const { at } = legendLayout(f.width, items);
  return items.map((it, i) => {
    const [x, row] = at[i]!, y = f.height - f.bottom + 48 + 16 * row;
    return `<line x1="${x}" x2="${x + 18}" y1="${y - 4}" y2="${y - 4}" stroke="${it.color}" stroke-width="3"${it.dash ? ' stroke-dasharray="4 3"' : ''}/>` +
      `<text x="${x + 22}" y="${y}">${escapeXml(it.label)}</text>`;
  }).join('');
}

function range(values: number[], includeZero = false): [number, number] {
  const finite = values.filter(Number.isFinite);
  let lo = Math.min(...finite, ...(includeZero ? [0] : [])), hi = Math.max(...finite, ...(includeZero ? [0] : []));
  if (!finite.length) { lo = 0; hi = 1; }
  if (hi === lo) { hi = lo + 1; }
  // Bars start at zero and get headroom above; lines get a margin on both sides.
  return includeZero ? [lo, hi + (hi - lo) * 0.08] : [lo - (hi - lo) * 0.05, hi + (hi - lo) * 0.05];
}

export interface Series { label: string; x: number[]; y: number[]; dash?: boolean }

/** Lines over a shared x axis. */
export function lineChart(plot: string, title: string, series: Series[], o: { xLabel: string; yLabel: string; width?: number; height?: number }): string {
  const items = series.map((s, i) => ({ label: s.label, color: PALETTE[i % PALETTE.length]!, dash: s.dash }));
  const f = frame(o.width ?? 460, o.height ?? 260, legendLayout(o.width ?? 460, items).rows);
  const [x0, x1] = range(series.flatMap((s) => s.x));
  const [y0, y1] = range(series.flatMap((s) => s.y));
  const x = (v: number) => f.left + ((v - x0) / (x1 - x0)) * (f.width - f.left - f.right);
  const y = (v: number) => f.height - f.bottom - ((v - y0) / (y1 - y0)) * (f.height - f.top - f.bottom);
  const lines = series.map((s, i) => {
    const pts = s.x.map((xv, k) => [xv, s.y[k]!] as const).filter(([, yv]) => Number.isFinite(yv));
    const points = pts.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${items[i]!.color}" stroke-width="1.8"${s.dash ? ' stroke-dasharray="4 3"' : ''} points="${points}"/>`;
  });
  const xt = ticks(x0, x1).map((t) => `<text x="${x(t)}" y="${f.height - f.bottom + 14}" text-anchor="middle">${fmt(t)}</text>`);
  return `${open(plot, title, f)}${yAxis(f, y0, y1, y, o.yLabel)}${xt.join('')}` +
    `<text x="${(f.left + f.width - f.right) / 2}" y="${f.height - f.bottom + 28}" text-anchor="middle">${escapeXml(o.xLabel)}</text>` +
    `${lines.join('')}${legend(f, items)}</svg>`;
}

/** A bar's value, with a symmetric ± error or an interval [lo, hi] (whiskers). */
export interface BarGroup { label: string; values: { value: number; error?: number; interval?: [number, number] }[]; marker?: number | null }

/** Grouped bars with optional ± error bars or interval whiskers and one marker line per group (e.g. a floor). */
export function barChart(plot: string, title: string, groups: BarGroup[], seriesLabels: string[],
  o: { yLabel: string; markerLabel?: string; width?: number; height?: number; includeZero?: boolean }): string {
  const items = seriesLabels.map((label, i) => ({ label, color: PALETTE[i % PALETTE.length]! }));
  if (o.markerLabel) items.push({ label: o.markerLabel, color: '#222' });
  const width = o.width ?? Math.max(460, 80 + groups.length * (24 + 18 * seriesLabels.length));
  const f = frame(width, o.height ?? 280, legendLayout(width, items).rows);
  const span = (v: BarGroup['values'][number]): [number, number] => v.interval ?? [v.value - (v.error ?? 0), v.value + (v.error ?? 0)];
  const all = groups.flatMap((g) => [...g.values.flatMap((v) => span(v).filter(Number.isFinite)), ...(g.marker != null ? [g.marker] : [])]);
  const [y0, y1] = range(all, o.includeZero ?? true);
  const y = (v: number) => f.height - f.bottom - ((v - y0) / (y1 - y0)) * (f.height - f.top - f.bottom);
  const gw = (f.width - f.left - f.right) / groups.length, bw = Math.min(22, (gw - 10) / seriesLabels.length);
  const bars = groups.map((g, gi) => {
    const gx = f.left + gi * gw + (gw - bw * seriesLabels.length) / 2;
    const parts = g.values.map((v, si) => {
      // No bar for an undefined value (e.g. the NE of a cohort with one label class).
      if (!Number.isFinite(v.value)) return '';
      const bx = gx + si * bw, top = y(v.value), base = y(Math.max(y0, 0));
      const note = v.interval ? ` [${fmt(v.interval[0])}, ${fmt(v.interval[1])}]` : v.error ? ` ± ${fmt(v.error)}` : '';
      let s = `<rect x="${bx.toFixed(1)}" y="${Math.min(top, base).toFixed(1)}" width="${(bw - 2).toFixed(1)}" ` +
        `height="${Math.abs(base - top).toFixed(1)}" ` +
        `fill="${items[si]!.color}"><title>${escapeXml(`${g.label} · ${seriesLabels[si]}: ${fmt(v.value)}${note}`)}</title></rect>`;
      const [lo, hi] = span(v);
      if ((v.interval || v.error) && Number.isFinite(lo) && Number.isFinite(hi)) {
        const cx = bx + (bw - 2) / 2;
        s += `<line x1="${cx}" x2="${cx}" y1="${y(lo)}" y2="${y(hi)}" stroke="#222"/>`;
      }
      return s;
    });
    if (g.marker != null && Number.isFinite(g.marker)) parts.push(`<line x1="${gx - 3}" x2="${gx + bw * seriesLabels.length + 1}" y1="${y(g.marker)}" ` +
      `y2="${y(g.marker)}" stroke="#222" stroke-width="2"/>`);
    parts.push(`<text x="${f.left + gi * gw + gw / 2}" y="${f.height - f.bottom + 14}" text-anchor="middle">${escapeXml(g.label)}</text>`);
    return parts.join('');
  });
  return `${open(plot, title, f)}${yAxis(f, y0, y1, y, o.yLabel)}${bars.join('')}${legend(f, items)}</svg>`;
}

/** A labelled square matrix, darker for larger values; `highlight` outlines cells. */
export function heatMap(plot: string, title: string, labels: string[], matrix: number[][], o: { highlight?: [number, number][]; cell?: number } = {}): string {
  const n = labels.length, cell = o.cell ?? Math.max(34, Math.min(60, Math.floor(360 / Math.max(1, n))));
  const longest = Math.max(...labels.map((l) => l.length), 4);
  const left = 12 + 6.5 * longest, top = 34;
  const width = Math.max(left + n * cell + 12, 16 + 7.2 * title.length), height = top + n * cell + 14 + 4.6 * longest;
  const finite = matrix.flat().filter(Number.isFinite), max = Math.max(...finite, 1e-12);
  const f = { width, height, left, right: 12, top, bottom: height - top - n * cell };
  const cells: string[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = matrix[i]?.[j] ?? NaN, t = Number.isFinite(v) ? v / max : 0;
      const shade = Math.round(245 - 190 * t), fill = Number.isFinite(v) ? `rgb(${shade},${Math.round(shade * 0.92 + 8)},${255 - Math.round(60 * t)})` : '#ddd';
      cells.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell - 1}" height="${cell - 1}" ` +
        `fill="${fill}"><title>${escapeXml(`${labels[i]} vs ${labels[j]}: ${Number.isFinite(v) ? fmt(v) : 'no rows'}`)}</title></rect>` +
        `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" fill="${t > 0.6 ? '#fff' : '#222'}" ` +
          `font-size="10">${Number.isFinite(v) ? fmt(v) : '—'}</text>`);
    }
    cells.push(`<text x="${left - 4}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(labels[i]!)}</text>`);
    cells.push(`<text transform="translate(${left + i * cell + cell / 2 + 3} ${top + n * cell + 8}) rotate(-40)" ` +
      `text-anchor="end">${escapeXml(labels[i]!)}</text>`);
  }
  for (const [i, j] of o.highlight ?? []) cells.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell - 1}" height="${cell - 1}" ` +
    `fill="none" stroke="#c44e52" stroke-width="3"/>`);
  return `${open(plot, title, f)}${cells.join('')}</svg>`;
}
