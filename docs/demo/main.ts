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
  const v = r.variants[0]!;
  const rows = [{ name: 'overall', share: 1, x: v.overall }, ...v.cohorts.map((c) => ({ name: c.name, share: c.share, x: c }))];
  $('ne-table').innerHTML = `<table><tr><th>cohort</th><th>share</th><th>NE baseline</th><th>NE C2AL</th><th>change</th><th>Bayes floor</th></tr>${rows.map(({ name, share, x }) => {
    const change = x.change.mean;
    return `<tr${r.discovery.aux.includes(name) ? ' class="aux"' : ''}><td>${name}</td><td>${(100 * share).toFixed(1)}%</td><td>${ne(x.ne.baseline.mean)}</td><td>${ne(x.ne.c2al.mean)}</td>` +
      `<td class="${change < 0 ? 'better' : change > 0 ? 'worse' : ''}">${pct(change)}</td><td>${x.ne.bayes === null ? '—' : ne(x.ne.bayes)}</td></tr>`;
  }).join('')}</table>`;
  $('ne').innerHTML = barChart('ne-per-cohort', 'NE per cohort: baseline vs C2AL (line: Bayes floor)', rows.map(({ name, x }) => ({
    label: name, values: [{ value: x.ne.baseline.mean }, { value: x.ne.c2al.mean }], marker: x.ne.bayes,
  })), ['baseline', 'C2AL'], { yLabel: 'NE', markerLabel: 'Bayes floor' });
  const a = r.attention, bins = a.baseline.histogram.length;
  $('attention').innerHTML = barChart('attention-histogram', '|Y| / max |Y| after training (entries per bin)', Array.from({ length: bins }, (_, i) => ({
    label: i % 4 === 0 ? (i / bins).toFixed(1) : '', values: [{ value: a.baseline.histogram[i]! }, { value: a.c2al.histogram[i]! }],
  })), ['baseline', 'C2AL'], { yLabel: 'entries', width: 560 }) +
    lineChart('attention-over-training', 'Normalized entropy of |Y| over training', [
      { label: 'baseline', x: r.curves.baseline.steps, y: r.curves.baseline.attention.map((s) => s.normalizedEntropy) },
      { label: 'C2AL', x: r.curves.c2al.steps, y: r.curves.c2al.attention.map((s) => s.normalizedEntropy) },
    ], { xLabel: 'step', yLabel: 'normalized entropy', width: 460 });
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
      const lambda = Math.max(0, Number(f.get('lambda')) || 0), steps = num('steps', 1), rows = num('rows', 500), seed = num('seed', 1);
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
        const report = await runExperiment(data, gpu, {
          seeds: 1, steps, batch: 256, lambdas: [lambda], logEvery: Math.max(1, Math.round(steps / 40)),
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
