/**
 * The live C2AL demo: the library's own runExperiment on this page's WebGPU adapter, with its progress,
 * live losses and discovery drawn as they arrive (plain SVG from src/c2al/svg.ts).
 */
import {
  WebGpuBackend, barChart, cohortsByField, heatMap, lineChart, runExperiment, syntheticClicks,
  type ExperimentReport, type Series,
} from '../../src/index.js';

type DemoState = 'starting' | 'no-webgpu' | 'ready' | 'running' | 'done' | 'error';
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const setState = (s: DemoState) => { document.body.dataset.state = s; };

function showError(message: string): void {
  const el = $('error');
  el.textContent = message;
  el.hidden = false;
}

const pct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%` : 'n/a');
const ne = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');

/** Live loss curves: one series per training run and head, redrawn at most once per frame. */
class LossPlot {
  private series = new Map<string, Series>();
  private pending = false;
  constructor(private readonly el: HTMLElement) {}
  reset(): void { this.series.clear(); this.el.innerHTML = ''; }
  add(run: string, step: number, loss: Record<string, number>): void {
    for (const [head, v] of Object.entries(loss)) {
      const key = head === 'primary' ? run : `${run}: aux ${head}`;
      const s = this.series.get(key) ?? { label: key, x: [], y: [], dash: head !== 'primary' };
      s.x.push(step);
      s.y.push(v);
      this.series.set(key, s);
    }
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.el.innerHTML = lineChart('live-loss', 'Mean BCE per batch (primary solid, auxiliary heads dashed)', [...this.series.values()], { xLabel: 'step', yLabel: 'BCE', width: 760, height: 300 });
    });
  }
}

function renderResults(r: ExperimentReport): void {
  const rows = [{ name: 'overall', share: 1, x: r.overall }, ...r.cohorts.map((c) => ({ name: c.name, share: c.share, x: c }))];
  $('ne-table').innerHTML = `<table><tr><th>cohort</th><th>share</th><th>NE baseline</th><th>NE C2AL</th><th>change</th><th>Bayes floor</th></tr>${rows.map(({ name, share, x }) => {
    const change = x.delta.c2al?.rel.mean ?? NaN;
    return `<tr${r.discovery.aux.includes(name) ? ' class="aux"' : ''}><td>${name}</td><td>${(100 * share).toFixed(1)}%</td><td>${ne(x.ne.baseline!.mean)}</td><td>${ne(x.ne.c2al!.mean)}</td>` +
      `<td class="${change < 0 ? 'better' : change > 0 ? 'worse' : ''}">${pct(change)}</td><td>${x.ne.bayes === null ? '—' : ne(x.ne.bayes)}</td></tr>`;
  }).join('')}</table>`;
  $('ne').innerHTML = barChart('ne-per-cohort', 'NE per cohort: baseline vs C2AL (line: Bayes floor)', rows.map(({ name, x }) => ({
    label: name, values: [{ value: x.ne.baseline!.mean }, { value: x.ne.c2al!.mean }], marker: x.ne.bayes,
  })), ['baseline', 'C2AL'], { yLabel: 'NE', markerLabel: 'Bayes floor' });
  const h = r.attention.histograms, bins = h.baseline.length;
  $('attention').innerHTML = barChart('attention-histogram', `Attention weights |Y| / max |Y| (${r.attention.kind} Y; share per bin)`, Array.from({ length: bins }, (_, i) => ({
    label: i % 4 === 0 ? (i / bins).toFixed(1) : '', values: [{ value: h.init[i]! }, { value: h.baseline[i]! }, { value: h.c2al[i]! }],
  })), ['initialization', 'baseline', 'C2AL'], { yLabel: 'share', width: 560 }) +
    lineChart('validation-curves', 'Validation NE over training (early stopping restores the best)', Object.entries(r.curves.validation).map(([arm, ev]) => ({
      label: arm, x: ev.map((e) => e.step), y: ev.map((e) => e.ne),
    })), { xLabel: 'step', yLabel: 'validation NE', width: 460 });
}

async function main(): Promise<void> {
  setState('starting');
  if (!('gpu' in navigator) || !navigator.gpu) {
    $('adapter').textContent = '';
    showError('This browser has no WebGPU (navigator.gpu is missing). Use Chrome or Edge 113+, or Chromium with --enable-unsafe-webgpu; Safari and Firefox need WebGPU enabled. The page must be served from https or localhost.');
    setState('no-webgpu');
    return;
  }
  let gpu: WebGpuBackend;
  try {
    gpu = await WebGpuBackend.create({ warm: true });
  } catch (e) {
    $('adapter').textContent = '';
    showError(`WebGPU is present but no adapter could be used: ${(e as Error).message}`);
    setState('no-webgpu');
    return;
  }
  const info = gpu.ctx.adapter;
  $('adapter').textContent = `Adapter: ${gpu.description} (vendor '${info.vendor}', architecture '${info.architecture}'); ${gpu.ctx.features.includes('timestamp-query') ? 'timestamp queries available' : 'no timestamp queries'}.`;
  const form = $<HTMLFormElement>('controls'), button = $<HTMLButtonElement>('run');
  const lossPlot = new LossPlot($('loss'));
  button.disabled = false;
  setState('ready');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void (async () => {
      const f = new FormData(form);
      const num = (k: string, lo: number) => Math.max(lo, Math.floor(Number(f.get(k)) || lo));
      const lambda = Math.max(0, Number(f.get('lambda')) || 0), epochs = num('epochs', 1), rows = num('rows', 500), seed = num('seed', 1);
      const axis = String(f.get('axis'));
      button.disabled = true;
      $('error').hidden = true;
      for (const id of ['discovery', 'ne-table', 'ne', 'attention']) $(id).innerHTML = '';
      lossPlot.reset();
      setState('running');
      const progress = $<HTMLProgressElement>('progress'), status = $('status');
      const runs = 2;
      let run = 0;
      try {
        const base = syntheticClicks({ rows, seed });
        const data = axis === 'age' ? base : cohortsByField(base, axis);
        // One seed, the baseline and C2AL: a demo of the method, not the protocol's evidence (that needs seeds and controls).
        const report = await runExperiment(data, gpu, {
          seeds: 1, arms: ['baseline', 'c2al'], lambdas: [lambda], maxEpochs: epochs, patience: 1, permutations: 50, bootstrap: 100, hyper: { batch: 256 }, world: 'planted',
          progress: (label) => {
            const index = run++, t0 = performance.now();
            return (step, total) => {
              progress.value = (index + (step + 1) / total) / runs;
              const rate = (step + 1) / ((performance.now() - t0) / 1000);
              status.textContent = `${label}: ${step + 1}/${total} steps · ${rate.toFixed(1)} steps/s`;
            };
          },
          onTrainLog: (label, step, loss) => lossPlot.add(label.replace(/^seed 1\/1 /, ''), step, loss),
          onDiscovery: (d, aux) => {
            const names = data.cohortNames;
            $('discovery').innerHTML = heatMap('divergence', `${d.metric} of baseline predictions (head and tail outlined)`, names, d.matrices[d.metric], { highlight: [[d.head, d.tail], [d.tail, d.head]] }) +
              `<p class="note">head = <b>${names[d.head]}</b>, tail = <b>${names[d.tail]}</b>; auxiliary heads for ${aux.map((c) => names[c]).join(', ')}.</p>`;
          },
        });
        renderResults(report);
        status.textContent = `done in ${report.seconds.toFixed(1)} s on ${report.adapter}`;
        progress.value = 1;
        (window as unknown as { c2alReport: ExperimentReport }).c2alReport = report;
        setState('done');
      } catch (e) {
        showError(`The experiment stopped: ${(e as Error).message}`);
        setState('error');
      } finally {
        button.disabled = false;
      }
    })();
  });
}

void main();
