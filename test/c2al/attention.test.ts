/** Attention statistics on hand-built Y, and the groups of the paper's Figure 7. */
import { expect, test } from 'vitest';
import { attentionStats, NEAR_ZERO } from '../../src/nn/attention-stats.js';
import { layerGroup } from '../../src/c2al/attention.js';

test('attention statistics: uniform weights vs one dominant entry', () => {
  const uniform = attentionStats(new Array(16).fill(0.5));
  expect(uniform.normalizedEntropy).toBeCloseTo(1, 12);
  expect(uniform.gini).toBeCloseTo(0, 12);
  expect(uniform.nearZero).toBe(0);
  const peaked = attentionStats([10, ...new Array(15).fill(0.001)]);
  expect(peaked.normalizedEntropy).toBeLessThan(0.1);
  expect(peaked.gini).toBeGreaterThan(0.9);
  expect(peaked.nearZero).toBeCloseTo(15 / 16, 12);
  expect(peaked.kurtosis).toBeGreaterThan(5);
  expect(peaked.histogram[19]).toBe(1);
  expect(peaked.histogram[0]).toBe(15);
});

test('attention statistics of a hand-built Y match hand-computed values', () => {
  // Y = [1, −2, 0, 3]: |Y| sums to 6, weights 1/6, 2/6, 0, 3/6.
  const s = attentionStats([1, -2, 0, 3]);
  const w = [1 / 6, 2 / 6, 0, 3 / 6];
  const entropy = -w.filter((x) => x > 0).reduce((a, x) => a + x * Math.log(x), 0);
  expect(s.entropy).toBeCloseTo(entropy, 14);
  expect(s.normalizedEntropy).toBeCloseTo(entropy / Math.log(4), 14);
  // Gini over sorted weights 0, 1/6, 2/6, 3/6: Σ (2i − m − 1)·w_(i) / m with m = 4.
  expect(s.gini).toBeCloseTo(((-3) * 0 + (-1) * (1 / 6) + 1 * (2 / 6) + 3 * (3 / 6)) / 4, 14);
  expect(s.nearZero).toBe(1 / 4); // only the 0 is below NEAR_ZERO·max|Y|
  expect(NEAR_ZERO).toBe(0.01);
  // Excess kurtosis of [1, −2, 0, 3]: mean 0.5, central moments m2 = 3.25, m4 = (0.0625 + 39.0625 + 0.0625 + 39.0625) / 4.
  const m2 = (0.25 + 6.25 + 0.25 + 6.25) / 4, m4 = (0.0625 + 39.0625 + 0.0625 + 39.0625) / 4;
  expect(s.kurtosis).toBeCloseTo(m4 / (m2 * m2) - 3, 12);
  expect(s.histogram.reduce((a, b) => a + b, 0)).toBe(4);
});

test('Figure 7 groups: before the attention MLP, the MLP, after it', () => {
  expect(layerGroup('embeddings.tables.0')).toBe('before');
  expect(layerGroup('layers.0.modules.0.fm.attention_norm.gamma')).toBe('before');
  expect(layerGroup('layers.0.modules.0.fm.attention.layers.1.weight')).toBe('attention');
  expect(layerGroup('layers.0.modules.0.fm.norm.beta')).toBe('after');
  expect(layerGroup('layers.0.modules.0.fm.mlp.layers.0.weight')).toBe('after');
  expect(layerGroup('heads.primary.layers.0.weight')).toBeNull();
});
