/**
 * The experiment's self-contained report.html: the protocol, tables with intervals and inline SVG plots
 * (NE per cohort, each arm's change with 95% whiskers, early-stopping curves, the cohorts' prediction
 * densities of the paper's Figure 3, the discovered pair's permutation null, divergence and score
 * matrices, attention-weight distributions at initialization / baseline / C2AL and the layer view of
 * Figure 7). No scripts, no external resources: it opens from disk, a mail attachment or a CI viewer alike.
 */
import type { AttentionBlock, ExperimentReport, IntervalStat } from './results.js';
import { barChart, escapeXml, heatMap, lineChart, type Series } from './svg.js';
import { METRICS } from './discovery.js';

/** Every plot the report draws, by its data-plot id (a test checks each is drawn with finite coordinates). */
export const REPORT_PLOTS = ['ne-per-cohort', 'ne-change', 'validation-curves', 'training-curves', 'prediction-densities', 'null-distribution',
  ...METRICS.map((m) => `divergence-${m}`), 'divergence-scores', 'attention-histogram', 'attention-layers'] as const;

// n/a: undefined for this cohort (no rows, or one label class in the test split).
const pct = (x: number, d = 2): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(d)}%` : 'n/a');
const ms = (s: { mean: number; std: number }, d = 4): string => (Number.isFinite(s.mean) ? `${s.mean.toFixed(d)} ± ${s.std.toFixed(d)}` : 'n/a');
const ci = (c: [number, number], f = pct): string => (c.every(Number.isFinite) ? `[${f(c[0])}, ${f(c[1])}]` : 'n/a');
const fixed = (d: number) => (x: number): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** Rows: overall then each cohort; columns: NE per arm, then each compared arm's change with both intervals. */
function deltaTable(r: ExperimentReport): string {
  const compared = Object.keys(r.overall.delta);
  const arms = ['baseline', ...compared];
  const head = `<tr><th>cohort</th><th>share</th>${arms.map((a) => `<th>NE ${escapeXml(a)}</th>`).join('')}` +
    `${compared.map((a) => `<th>${escapeXml(a)}: change [95% t] [95% bootstrap]</th>`).join('')}<th>floor</th></tr>`;
  const entries = [{ name: 'overall', share: 1, row: r.overall }, ...r.cohorts.map((c) => ({ name: c.name, share: c.share, row: c }))];
  const rows = entries.map(({ name, share, row }) => {
    const aux = r.discovery.aux.includes(name) ? ' class="aux"' : '';
    const ne = arms.map((a) => `<td>${ms(row.ne[a] ?? { mean: NaN, std: NaN })}</td>`).join('');
    return `<tr${aux}><td>${escapeXml(name)}</td><td>${(100 * share).toFixed(1)}%</td>${ne}` +
      compared.map((a) => {
        const dl = row.delta[a]!;
        const cls = dl.significant ? (dl.rel.mean < 0 ? 'better' : 'worse') : '';
        const mark = dl.significantFamilywise ? ' ‡' : dl.significant ? ' *' : '';
        return `<td class="${cls}">${pct(dl.rel.mean)} ${ci(dl.rel.ci95)} ${ci(dl.bootstrap95)}${mark}</td>`;
      }).join('') + `<td>${row.ne.bayes === null ? '—' : fixed(4)(row.ne.bayes)}</td></tr>`;
  });
  return `<table>${head}${rows.join('')}</table>`;
}

function armsTable(r: ExperimentReport): string {
  const rows = r.arms.map((a) => {
    const epochs = a.perSeed.map((s) => s.bestEpoch), val = a.perSeed.map((s) => s.valNE);
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    const heads = escapeXml(a.heads.join(', ') || '—'), reweighted = escapeXml(a.reweighted.join(', ') || '—');
    return `<tr><td>${escapeXml(a.name)}</td><td>${heads}</td><td>${reweighted}</td><td>${a.lambda ?? '—'}</td>` +
      `<td>${a.perSeed.length}</td><td>${mean(epochs).toFixed(1)} (${Math.min(...epochs)}–${Math.max(...epochs)})</td><td>${mean(val).toFixed(4)}</td>` +
      `<td>${a.perSeed.filter((s) => s.stopped === 'patience').length}/${a.perSeed.length}</td></tr>`;
  });
  const header = ['arm', 'auxiliary heads', 'reweighted', 'λ', 'runs', 'best epoch: mean (range)', 'best validation NE', 'early-stopped'];
  return `<table><tr>${header.map((h) => `<th>${h}</th>`).join('')}</tr>${rows.join('')}</table>`;
}

function attentionTable(r: ExperimentReport): string {
  const a = r.attention;
  const cell = (s: IntervalStat, f: (x: number) => string) => `${f(s.mean)} ${ci(s.ci95, f)}`;
  const rows: [string, keyof AttentionBlock, (x: number) => string][] = [
    ['normalized entropy', 'normalizedEntropy', fixed(3)], ['Gini', 'gini', fixed(3)], ['near zero (< 1% of max |Y|)', 'nearZero',
      (x) => pct(x, 1)], ['excess kurtosis', 'kurtosis', fixed(2)],
  ];
  const header = [a.kind === 'generated' ? 'generated Y over validation rows' : 'learned Y', 'initialization', 'baseline', 'C2AL', 'C2AL − baseline'];
  const cells = (k: keyof AttentionBlock, f: (x: number) => string) =>
    [a.init[k], a.baseline[k], a.c2al[k], a.delta[k]].map((v) => `<td>${cell(v, f)}</td>`).join('');
  return `<table><tr>${header.map((h) => `<th>${h}</th>`).join('')}</tr>` +
    rows.map(([n, k, f]) => `<tr><td>${n}</td>${cells(k, f)}</tr>`).join('') + '</table>';
}

function plots(r: ExperimentReport): { [K in (typeof REPORT_PLOTS)[number]]: string } {
  const d = r.discovery, names = d.cohortNames, compared = Object.keys(r.overall.delta);
  const groups = [{ name: 'overall', row: r.overall }, ...r.cohorts.map((c) => ({ name: c.name, row: c }))];
  const arms = ['baseline', ...compared];
  const ne = barChart('ne-per-cohort', `NE on the test split (mean ± std over ${r.seeds * r.worldSeeds} units; lower is better; black: the floor)`,
    groups.map((g) => ({ label: g.name, values: arms.map((a) => ({ value: g.row.ne[a]?.mean ?? NaN, error: g.row.ne[a]?.std })), marker: g.row.ne.bayes })),
    arms, { yLabel: 'NE', markerLabel: groups.some((g) => g.row.ne.bayes !== null) ? 'floor' : undefined });
  const change = barChart('ne-change', 'Relative NE change against the baseline, with 95% paired t-interval whiskers (below 0: better)',
    groups.map((g) => ({ label: g.name, values: compared.map((a) => ({ value: g.row.delta[a]!.rel.mean, interval: g.row.delta[a]!.rel.ci95 })) })),
    compared, { yLabel: 'relative ΔNE', includeZero: true });
  const valSeries: Series[] = Object.entries(r.curves.validation).map(([arm, ev]) => ({ label: arm, x: ev.map((e) => e.step), y: ev.map((e) => e.ne) }));
  const validation = lineChart('validation-curves', 'Validation NE over training (world 1, seed 1): early stopping restores each arm\'s best', valSeries,
    { xLabel: 'step', yLabel: 'validation NE', width: 560 });
  const { baseline, c2al } = r.curves;
  const training = lineChart('training-curves', 'Training loss (world 1, seed 1; mean BCE per batch)', [
    { label: 'baseline (primary)', x: baseline.steps, y: baseline.loss.primary ?? [] },
    ...(c2al ? [{ label: 'C2AL (primary)', x: c2al.steps, y: c2al.loss.primary ?? [] },
      ...Object.entries(c2al.loss).filter(([n]) => n !== 'primary').map(([n, y]) => ({ label: `C2AL aux: ${n}`, x: c2al.steps, y, dash: true }))] : []),
  ], { xLabel: 'step', yLabel: 'BCE', width: 560 });
  const densities = lineChart('prediction-densities', `Baseline predictions on validation rows per cohort (the paper's Figure 3; ` +
    `dashed: ${d.head} and ${d.tail})`,
    d.densities.map((x) => ({ label: x.cohort, x: x.histogram.map((_, i) => (i + 0.5) / 20), y: x.histogram,
      dash: x.cohort === d.head || x.cohort === d.tail })),
    { xLabel: 'predicted click probability', yLabel: 'share of rows', width: 560 });
  const dist = d.null.distribution.filter(Number.isFinite);
  const lo = Math.min(...dist, d.null.observed), hi = Math.max(...dist, d.null.observed), bins = 24;
  const counts = new Array<number>(bins).fill(0);
  for (const v of dist) counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo || 1)) * bins))]!++;
  const observedBin = Math.min(bins - 1, Math.floor(((d.null.observed - lo) / (hi - lo || 1)) * bins));
  const nul = barChart('null-distribution', `${d.metric} of ${d.head} / ${d.tail} under ${d.null.permutations} permutations (${d.null.level}-level); ` +
    `black: observed (p = ${d.null.pairPValue.toFixed(3)}, family-wise ${d.null.pValue.toFixed(3)})`,
    counts.map((c, i) => ({ label: i % 6 === 0 ? (lo + (i / bins) * (hi - lo)).toFixed(3) : '', values: [{ value: c }],
      marker: i === observedBin ? Math.max(...counts) : null })),
    ['permuted labellings'], { yLabel: 'count', markerLabel: 'observed', width: 560 });
  const [hIdx, tIdx] = [names.indexOf(d.head), names.indexOf(d.tail)];
  const heat = Object.fromEntries(METRICS.map((m) => [`divergence-${m}`,
    heatMap(`divergence-${m}`, `${m} (observed)${m === d.metric ? ', used for discovery' : ''}`, names, d.matrices[m],
    { highlight: m === d.metric ? [[hIdx, tIdx], [tIdx, hIdx]] : [], cell: m === d.metric ? undefined : 42 })]));
  const scores = heatMap('divergence-scores', `${d.metric}: score = observed − null mean`, names,
    d.null.scores.map((row) => row.map((v) => (Number.isFinite(v) ? v : NaN))),
    { highlight: [[hIdx, tIdx], [tIdx, hIdx]] });
  const a = r.attention, h = a.histograms;
  const hist = barChart('attention-histogram', `Attention weights |Y| / max |Y| ` +
    `(${a.kind === 'generated' ? 'generated Y over validation rows' : 'learned Y'}; share per bin, mean over units)`,
    h.baseline.map((_, i) => ({ label: i % 4 === 0 ? (i / h.baseline.length).toFixed(1) : '',
      values: [{ value: h.init[i] ?? NaN }, { value: h.baseline[i]! }, { value: h.c2al[i] ?? NaN }] })),
    ['initialization', 'baseline', 'C2AL'], { yLabel: 'share', width: 560 });
  const layers = barChart('attention-layers', 'Normalized entropy of the weights before, of and after the attention MLP (the paper\'s Figure 7), 95% whiskers',
    (['before', 'attention', 'after'] as const).map((g) => ({
      label: g === 'attention' ? 'attention MLP' : `${g} it`,
      values: (['init', 'baseline', 'c2al'] as const).map((k) => ({ value: a.layers[g][k].normalizedEntropy.mean,
        interval: a.layers[g][k].normalizedEntropy.ci95 })),
    })), ['initialization', 'baseline', 'C2AL'], { yLabel: 'normalized entropy', includeZero: false });
  return {
    'ne-per-cohort': ne, 'ne-change': change, 'validation-curves': validation, 'training-curves': training, 'prediction-densities': densities,
    'null-distribution': nul, ...heat, 'divergence-scores': scores, 'attention-histogram': hist, 'attention-layers': layers,
  } as { [K in (typeof REPORT_PLOTS)[number]]: string };
}

export function renderReport(r: ExperimentReport): string {
  const d = r.discovery, t = r.protocol.tuned, p = plots(r);
  const ablation = [r.options.freezeY ? 'Y frozen at initialization (ablation)' : '',
    d.selection === 'given' ? 'cohorts given by the user' : ''].filter(Boolean).join('; ');
  const stability = d.stability.pairs.map((x) => `${escapeXml(x.pair.join(' / '))} ${x.count}/${d.stability.units}`).join(', ');
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
<p class="note">${escapeXml(r.protocol.name)} protocol${r.options.world ? ` on the ${escapeXml(r.options.world)} world` : ''}: ${r.seeds} seed${r.seeds > 1 ? 's' : ''} × ${r.worldSeeds} world${r.worldSeeds > 1 ? 's' : ''};
every arm early-stopped on its own validation NE (patience ${r.protocol.patience}, at most ${r.protocol.maxEpochs} epochs) and its best weights restored; the test split read ${r.testReads} times, once per arm and unit, after selection.
Rows train/valid/test ${r.options.rows.train}/${r.options.rows.valid}/${r.options.rows.test}; batch ${r.options.batch}; adapter ${escapeXml(r.adapter)}; ${r.seconds.toFixed(0)} s.${ablation ? ` <b>${escapeXml(ablation)}</b>.` : ''}</p>
<p class="note">Hyperparameters${t.tuned ? ' tuned on validation' : ''}: lr ${t.lr}, embedding L2 ${t.embeddingL2}, dim ${t.dim}, weight decay ${t.weightDecay}.
${t.lambda === null ? '' : `λ = ${t.lambda}: ${escapeXml(t.lambdaReason)} (criterion: ${escapeXml(t.criterion)}).`} ${escapeXml(r.protocol.multiplicity)}</p>
<h2>Discovery</h2>
<p>${escapeXml(d.metric)} between per-cohort histograms (${d.bins} ${escapeXml(d.binning)} bins) of the baseline's validation predictions, against a permutation null:
head = <b>${escapeXml(d.head)}</b>, tail = <b>${escapeXml(d.tail)}</b>, score ${d.null.score.toFixed(3)} (z ${d.null.z.toFixed(1)}), family-wise p = ${d.null.pValue.toFixed(3)}
(${d.null.permutations} labellings shuffled across ${d.null.level === 'group' ? `${d.null.groups} ${escapeXml(d.null.groupField ?? 'groups')}s` : 'rows'}):
${d.significant ? 'above chance' : '<b>not above chance: the comparison below is exploratory</b>'} at ${d.level}.
${d.truth ? `The generator's most different pair: ${escapeXml(d.truth.head)} / ${escapeXml(d.truth.tail)}. ` : ''}Chosen by the baselines of every unit: ${stability}.
Auxiliary heads: ${d.aux.map((x) => `<b>${escapeXml(x)}</b>`).join(', ')} (${d.selection}).</p>
<div class="plots">${p['prediction-densities']}${p['null-distribution']}</div>
<div class="plots">${p[`divergence-${d.metric}`]}${p['divergence-scores']}${METRICS.filter((m) => m !== d.metric).map((m) => p[`divergence-${m}`]).join('')}</div>
<h2>NE per cohort, every arm against the baseline</h2>
<p class="note">Change = (arm − baseline) / baseline per (world, seed) unit. * significant (both 95% intervals exclude 0); ‡ also after Bonferroni over the arm's rows.
Bold cohorts had auxiliary heads. n/a: a cohort's test rows hold one label class.</p>
${deltaTable(r)}
<div class="plots">${p['ne-per-cohort']}${p['ne-change']}</div>
<h2>Arms and early stopping</h2>
${armsTable(r)}
<div class="plots">${p['validation-curves']}${p['training-curves']}</div>
<h2>Attention weights</h2>
${attentionTable(r)}
<div class="plots">${p['attention-histogram']}${p['attention-layers']}</div>
<h2>Serving cost</h2>
<p>The C2AL inference model ${r.inference.sameParameters ? 'has exactly the baseline\'s parameter names and shapes' : '<b>differs from the baseline\'s parameters</b>'};
a forward pass over the validation split took ${r.inference.c2alMs.toFixed(1)} ms against the baseline's ${r.inference.baselineMs.toFixed(1)} ms (ratio ${r.inference.ratio.toFixed(3)}, median of 5, same run).</p>
</body></html>
`;
}
