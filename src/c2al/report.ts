/**
 * The experiment's self-contained report.html: tables plus inline SVG plots (NE per cohort, training
 * curves, divergence matrices, FM attention histograms and attention density over training). No scripts,
 * no external resources: it opens from disk, in a mail attachment or in a CI artifact viewer alike.
 */
import type { ExperimentReport } from './experiment.js';
import { barChart, escapeXml, heatMap, lineChart, type Series } from './svg.js';
import { METRICS } from './discovery.js';

// n/a: undefined for this cohort (no rows, or one label class in the test split).
const pct = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%` : 'n/a');
const ms = (s: { mean: number; std: number }, d = 4): string => (Number.isFinite(s.mean) ? `${s.mean.toFixed(d)} ± ${s.std.toFixed(d)}` : 'n/a');

function neTable(r: ExperimentReport): string {
  const head = `<tr><th>cohort</th><th>share</th><th>NE baseline</th>${r.variants.map((v) => `<th>NE ${escapeXml(v.name)}</th><th>change</th>`).join('')}<th>Bayes floor</th></tr>`;
  const rows = [{ name: 'overall', share: 1, idx: -1 }, ...r.cohorts.map((c, idx) => ({ name: c.name, share: c.share, idx }))].map(({ name, share, idx }) => {
    const pick = (v: ExperimentReport['variants'][number]) => (idx < 0 ? v.overall : v.cohorts[idx]!);
    const first = pick(r.variants[0]!);
    const aux = r.discovery.aux.includes(name) ? ' class="aux"' : '';
    return `<tr${aux}><td>${escapeXml(name)}</td><td>${(100 * share).toFixed(1)}%</td><td>${ms(first.ne.baseline)}</td>` +
      r.variants.map((v) => {
        const c = pick(v), better = c.change.mean < 0 && Math.abs(c.change.mean) > c.change.std;
        return `<td>${ms(c.ne.c2al)}</td><td class="${better ? 'better' : c.change.mean > c.change.std ? 'worse' : ''}">${Number.isFinite(c.change.mean) ? `${pct(c.change.mean)} ± ${(100 * c.change.std).toFixed(2)}%` : 'n/a'}</td>`;
      }).join('') + `<td>${first.ne.bayes === null ? '—' : Number.isFinite(first.ne.bayes) ? first.ne.bayes.toFixed(4) : 'n/a'}</td></tr>`;
  });
  return `<table>${head}${rows.join('')}</table>`;
}

function attentionTable(r: ExperimentReport): string {
  const a = r.attention;
  const rows: [string, (x: typeof a.baseline) => string][] = [
    ['entries of Y', (x) => String(x.entries)], ['normalized entropy', (x) => x.normalizedEntropy.toFixed(3)], ['Gini', (x) => x.gini.toFixed(3)],
    ['near zero (< 1% of max |Y|)', (x) => `${(100 * x.nearZero).toFixed(1)}%`], ['excess kurtosis', (x) => x.kurtosis.toFixed(2)],
  ];
  return `<table><tr><th></th><th>baseline</th><th>C2AL</th></tr>${rows.map(([n, f]) => `<tr><td>${n}</td><td>${f(a.baseline)}</td><td>${f(a.c2al)}</td></tr>`).join('')}</table>`;
}

function curves(r: ExperimentReport): string {
  const { baseline, c2al } = r.curves;
  const series: Series[] = [
    { label: 'baseline (primary)', x: baseline.steps, y: baseline.loss.primary ?? [] },
    { label: 'C2AL (primary)', x: c2al.steps, y: c2al.loss.primary ?? [] },
    ...Object.entries(c2al.loss).filter(([n]) => n !== 'primary').map(([n, y]) => ({ label: `C2AL aux: ${n}`, x: c2al.steps, y, dash: true })),
  ];
  const loss = lineChart('training-curves', 'Training loss (seed 1, mean BCE per batch)', series, { xLabel: 'step', yLabel: 'BCE', width: 560 });
  if (!baseline.attention.length) return loss;
  // Separate axes: entropy (~0.9) and Gini (~0.4) on one would flatten both.
  const density = lineChart('attention-over-training', 'FM attention Y over training: normalized entropy of |Y|', [
    { label: 'baseline', x: baseline.steps, y: baseline.attention.map((a) => a.normalizedEntropy) },
    { label: 'C2AL', x: c2al.steps, y: c2al.attention.map((a) => a.normalizedEntropy) },
  ], { xLabel: 'step', yLabel: 'normalized entropy', width: 420 }) + lineChart('attention-gini-over-training', 'FM attention Y over training: Gini of |Y|', [
    { label: 'baseline', x: baseline.steps, y: baseline.attention.map((a) => a.gini) },
    { label: 'C2AL', x: c2al.steps, y: c2al.attention.map((a) => a.gini) },
  ], { xLabel: 'step', yLabel: 'Gini', width: 420 });
  return loss + density;
}

export function renderReport(r: ExperimentReport): string {
  const d = r.discovery, names = d.cohortNames;
  const neGroups = [{ name: 'overall', v: (x: ExperimentReport['variants'][number]) => x.overall }, ...r.cohorts.map((c, i) => ({ name: c.name, v: (x: ExperimentReport['variants'][number]) => x.cohorts[i]! }))]
    .map((g) => ({
      label: g.name,
      values: [{ value: g.v(r.variants[0]!).ne.baseline.mean, error: g.v(r.variants[0]!).ne.baseline.std }, ...r.variants.map((v) => ({ value: g.v(v).ne.c2al.mean, error: g.v(v).ne.c2al.std }))],
      marker: g.v(r.variants[0]!).ne.bayes,
    }));
  const nePlot = barChart('ne-per-cohort', `NE on the test split (mean ± std over ${r.seeds} seed${r.seeds > 1 ? 's' : ''}; lower is better)`, neGroups,
    ['baseline', ...r.variants.map((v) => v.name)], { yLabel: 'NE', markerLabel: neGroups.some((g) => g.marker != null) ? 'Bayes floor' : undefined });
  const [hi, ti] = [names.indexOf(d.head), names.indexOf(d.tail)];
  const heat = [d.metric, ...METRICS.filter((m) => m !== d.metric)].map((m, k) =>
    heatMap(`divergence-${m}`, `${m}${m === d.metric ? ' (used for discovery)' : ''}`, names, d.matrices[m], { highlight: m === d.metric ? [[hi, ti], [ti, hi]] : [], cell: k === 0 ? undefined : 42 }));
  const bins = r.attention.baseline.histogram.length;
  const hist = barChart('attention-histogram', 'FM attention weights after training: |Y| / max |Y| (entries per bin)', Array.from({ length: bins }, (_, i) => ({
    label: i % 4 === 0 ? (i / bins).toFixed(1) : '', values: [{ value: r.attention.baseline.histogram[i]! }, { value: r.attention.c2al.histogram[i]! }],
  })), ['baseline', 'C2AL'], { yLabel: 'entries', width: 560 });
  const inf = r.inference;
  const ablation = [r.options.freezeY ? 'Y frozen at initialization (ablation)' : '', d.selection === 'random' ? 'cohorts drawn at random (control)' : '', d.selection === 'given' ? 'cohorts given by the user' : '']
    .filter(Boolean).join('; ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>C2AL report</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}tr.aux td:first-child{font-weight:600}
td.better{color:#1a7f37;font-weight:600}td.worse{color:#b42318}
.plots{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}.note{color:#555;font-size:13px}
</style></head><body>
<h1>C2AL: cohort-contrastive auxiliary learning — report</h1>
<p class="note">${r.seeds} seed${r.seeds > 1 ? 's' : ''}, ${r.options.steps} steps of ${r.options.batch} rows per model; rows train/valid/test ${r.options.rows.train}/${r.options.rows.valid}/${r.options.rows.test};
adapter ${escapeXml(r.adapter)}; ${r.seconds.toFixed(0)} s.${ablation ? ` <b>${escapeXml(ablation)}</b>.` : ''}</p>
<h2>Discovery</h2>
<p>By ${escapeXml(d.metric)} between the per-cohort histograms of the baseline's predictions on the validation split:
head = <b>${escapeXml(d.head)}</b>, tail = <b>${escapeXml(d.tail)}</b>${d.truth ? ` (the generator's most different pair: ${escapeXml(d.truth.head)} / ${escapeXml(d.truth.tail)})` : ''}.
Auxiliary heads: ${d.aux.map((a) => `<b>${escapeXml(a)}</b>`).join(', ')} (${d.selection}).</p>
<div class="plots">${heat.join('')}</div>
<h2>NE per cohort</h2>
<p class="note">change = (C2AL − baseline) / baseline per seed, then mean ± std; green where NE fell by more than its std, red where it rose by more. Bold cohorts had auxiliary heads. n/a: no NE where a cohort's test rows hold one label class.</p>
${neTable(r)}
<div class="plots">${nePlot}</div>
<h2>Training</h2>
<div class="plots">${curves(r)}</div>
<h2>FM attention weights Y</h2>
${attentionTable(r)}
<div class="plots">${hist}</div>
<h2>Serving cost</h2>
<p>The C2AL inference model ${inf.sameParameters ? 'has exactly the baseline\'s parameter names and shapes' : '<b>differs from the baseline\'s parameters</b>'};
a forward pass over the test split took ${inf.c2alMs.toFixed(1)} ms against the baseline's ${inf.baselineMs.toFixed(1)} ms (ratio ${inf.ratio.toFixed(3)}, median of 5, same run).</p>
</body></html>
`;
}
