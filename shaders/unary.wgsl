// unary.wgsl: out[i] = f(a[i]) for one f chosen by the OP override (codes in src/reference.ts, UNARY).
// Bindings: @group(0) 0 a: f32 (read), 1 out: f32 (read_write); @group(1) 0 Params.
// Grid: ceil(n / WG) workgroups, split over x and y when above 65535 (index = gid.x + gid.y * nwg.x * WG).
// v1: one element per thread.

override OP: u32;
override WG: u32 = 256u;

struct Params { n: u32, alpha: f32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/unary_ops.wgsl"

@compute @workgroup_size(WG)
fn unary(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n || i >= arrayLength(&out) || i >= arrayLength(&a)) { return; }
  out[i] = apply(a[i]);
}
