/**
 * The seeded workload both test projects run for the Node ↔ browser parity check: a set of kernels
 * (forward and gradients) and 20 training steps of a small DHEN with C2AL heads. Every value is kept as
 * float32 bits, so two runs compare exactly.
 */
import * as c from '../../src/index.js';
import { predict, train } from '../../src/train/loop.js';
import { syntheticClicks } from '../../src/data/synthetic.js';
import { metrics } from '../../src/c2al/metrics.js';
import { embeddingLookup } from '../../src/ops.js';

export interface ParityResult {
  adapter: string;
  /** name → float32 values (as numbers; exact, since every float32 is a double). */
  values: Record<string, number[]>;
  /** 20-step C2AL training: per-step losses per head, the final weights' hash, NE of the trained model. */
  training: { loss: Record<string, number[]>; weightsHash: string; weights: number[]; ne: number };
}

/** FNV-1a over the float32 bit patterns, as hex: equal hashes mean bit-identical weights. */
export function hashFloats(values: ArrayLike<number>): string {
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  let h = 0x811c9dc5;
  for (const w of bits) {
    for (let s = 0; s < 32; s += 8) {
      h ^= (w >>> s) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h.toString(16).padStart(8, '0');
}

async function kernels(backend: c.Backend): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  const o = { backend };
  const record = async (name: string, t: c.Tensor) => { out[name] = Array.from(await t.read()); };
  const leaf = (shape: number[], seed: number, lo = -1, hi = 1) => c.randomUniform(shape, { ...o, seed, low: lo, high: hi, requiresGrad: true });
  const a = leaf([37, 29], 1), b = leaf([29, 23], 2), bt = leaf([23, 29], 3);
  const x3 = leaf([5, 17, 12], 4), y3 = leaf([5, 12, 9], 5);
  const pos = leaf([64, 33], 6, 0.1, 3);
  const gamma = leaf([33], 7), beta = leaf([33], 8), logits = leaf([40, 3], 9, -12, 12), table = leaf([50, 6], 10);
  const tensors: c.Tensor[] = [a, b, bt, x3, y3, pos, gamma, beta, logits, table];
  const results = c.scope(() => {
    const mm = c.matmul(a, b), mmT = c.matmul(a, bt, { transB: true }), bmm = c.matmul(x3, y3);
    const un = [c.exp(pos), c.log(pos), c.sigmoid(a), c.tanh(a), c.gelu(a), c.silu(a), c.sqrt(pos), c.log1p(pos)];
    const red = [c.sum(pos, [0]), c.mean(pos, [1]), c.max(pos, [1]), c.softmax(pos, 1)];
    const ln = c.layerNorm(pos, gamma, beta);
    const labels = c.tensor(Array.from({ length: 120 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0), [40, 3], o);
    const bce = c.bceWithLogits(logits, labels);
    const ids = Array.from({ length: 32 * 2 }, (_, i) => (i * 13) % 25);
    const emb = embeddingLookup(table, ids, [{ name: 'a', vocab: 25 }, { name: 'b', vocab: 25 }]);
    const loss = c.add(c.add(c.sum(c.mul(mm, mm)), c.sum(mmT)), c.add(c.add(c.sum(c.mul(bmm, bmm)), c.sum(c.mul(ln, ln))), c.add(c.sum(bce), c.sum(c.mul(emb, emb)))));
    loss.backward();
    const preds = c.sigmoid(c.reshape(c.slice(pos, [0, 0], [64, 1]), [64]));
    const hist = c.histogram(c.mulScalar(preds, 1), Array.from({ length: 64 }, (_, i) => i % 4), 4, 10);
    return { mm, mmT, bmm, un, red, ln, bce, emb, hist, div: c.divergences(hist) };
  });
  await record('matmul', results.mm);
  await record('matmul transB', results.mmT);
  await record('batched matmul', results.bmm);
  for (const [i, t] of results.un.entries()) await record(`unary ${['exp', 'log', 'sigmoid', 'tanh', 'gelu', 'silu', 'sqrt', 'log1p'][i]}`, t);
  for (const [i, t] of results.red.entries()) await record(`reduce ${['sum', 'mean', 'max', 'softmax'][i]}`, t);
  await record('layerNorm', results.ln);
  await record('bceWithLogits', results.bce);
  await record('embeddingLookup', results.emb);
  await record('histogram', results.hist);
  await record('divergences', results.div);
  for (const [i, t] of tensors.entries()) {
    if (!t.grad) throw new Error(`parity workload: input ${i} ${t.describe()} got no gradient`);
    await record(`grad ${i}`, t.grad);
  }
  for (const t of [...Object.values(results).flat(), ...tensors]) t.dispose();
  return out;
}

export async function parityWorkload(backend: c.Backend): Promise<ParityResult> {
  const values = await kernels(backend);
  const data = syntheticClicks({ rows: 1200, seed: 11 });
  const { model, history } = await train(data, backend, { steps: 20, batch: 128, seed: 5, logEvery: 1, aux: [{ cohort: 2, lambda: 0.5 }, { cohort: 4, lambda: 0.5 }] });
  const weights: number[] = [];
  for (const [, p] of model.namedParameters()) weights.push(...(await p.read()));
  const ne = metrics(await predict(model.forInference(), data), data.labels).ne;
  model.dispose();
  return { adapter: backend.description, values, training: { loss: history.loss, weightsHash: hashFloats(weights), weights, ne } };
}
