// histogram.wgsl: per-cohort histograms of values in [0, 1]: counts[c, k] += 1 for each value v with
// cohort c and bin k = min(floor(v·K), K − 1). Values outside [0, 1] are clamped to the end bins; NaN
// values and cohort ids >= C are skipped. Integer atomics: counts are exact and order-independent.
// The caller zeroes counts first.
// Bindings: @group(0) 0 values: f32 [n], 1 cohorts: u32 [n] (read); 2 counts: atomic u32 [C, K] (read_write);
// @group(1) 0 Params.
// Grid: ceil(n / WG), split over x and y above 65535.

override WG: u32 = 256u;

struct Params { n: u32, cohorts: u32, bins: u32 }

@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read> cohorts: array<u32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn histogram(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n || i >= arrayLength(&values) || i >= arrayLength(&cohorts)) { return; }
  let v = values[i];
  let c = cohorts[i];
  // NaN by its bits: WGSL lets compilers assume finite math, which folds `v != v` to false.
  let is_nan = (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
  if (is_nan || c >= p.cohorts) { return; }
  let k = min(u32(clamp(v, 0.0, 1.0) * f32(p.bins)), p.bins - 1u);
  let slot = c * p.bins + k;
  if (slot < arrayLength(&counts)) { atomicAdd(&counts[slot], 1u); }
}
