// peak.wgsl: roofline probes for the benchmark, measured on the same adapter in the same run.
//   peak_fma:  each invocation runs p.iters rounds of 8 independent vec4 FMAs (64 FLOPs a round, 8 rounds a loop trip) on
//              registers seeded from a[i], then stores their sum (so nothing is optimized away).
//   peak_copy: out[i] = a[i] over vec4s: bytes moved = 2 · 16 · n.
// Bindings: @group(0) 0 a: vec4f (read); 1 out: vec4f (read_write); @group(1) 0 Params.
// Grid: ceil(n / WG), split over x and y above 65535.

override WG: u32 = 256u;

struct Params { n: u32, iters: u32 }

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn peak_fma(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n || i >= arrayLength(&out) || i >= arrayLength(&a)) { return; }
  let s = a[i];
  let m = vec4f(0.999);
  var r0 = s; var r1 = s + 1.0; var r2 = s + 2.0; var r3 = s + 3.0;
  var r4 = s + 4.0; var r5 = s + 5.0; var r6 = s + 6.0; var r7 = s + 7.0;
  // Eight rounds per trip: on lavapipe every trip of a loop stores each loop-carried value through the
  // execution mask (a blend and a spill), which halved the rate of a one-round body (docs/kernels.md).
  var it = 0u;
  for (; it + 8u <= p.iters; it += 8u) {
    round8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, m, s);
    round8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, m, s);
    round8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, m, s);
    round8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, m, s);
    round8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, m, s);
    round8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, m, s);
    round8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, m, s);
    round8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, m, s);
  }
  for (; it < p.iters; it++) {
    round8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, m, s);
  }
  out[i] = r0 + r1 + r2 + r3 + r4 + r5 + r6 + r7;
}

// One round: the eight independent chains each take one FMA.
fn round8(r0: ptr<function, vec4f>, r1: ptr<function, vec4f>, r2: ptr<function, vec4f>, r3: ptr<function, vec4f>,
          r4: ptr<function, vec4f>, r5: ptr<function, vec4f>, r6: ptr<function, vec4f>, r7: ptr<function, vec4f>, m: vec4f, s: vec4f) {
  *r0 = fma(*r0, m, s); *r1 = fma(*r1, m, s); *r2 = fma(*r2, m, s); *r3 = fma(*r3, m, s);
  *r4 = fma(*r4, m, s); *r5 = fma(*r5, m, s); *r6 = fma(*r6, m, s); *r7 = fma(*r7, m, s);
}

@compute @workgroup_size(WG)
fn peak_copy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n || i >= arrayLength(&out) || i >= arrayLength(&a)) { return; }
  out[i] = a[i];
}
