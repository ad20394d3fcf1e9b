// first_nonfinite.wgsl: finds non-finite values for the NaN/Inf guard: flags[slot] = min(flags[slot], i) over every
// element i of x that is NaN or ±Inf. Tested on the bits (exponent all ones): WGSL lets compilers assume
// finite math, which may fold isnan-style comparisons away. Integer atomicMin: the result (the first bad
// index, or 0xffffffff when all are finite) does not depend on scheduling. Callers fill flags with
// 0xffffffff first; one readback of flags covers every tensor checked since.
// Bindings: @group(0) 0 x: f32 [n] (read); 1 flags: atomic u32 [slots] (read_write); @group(1) 0 Params.
// Grid: ceil(n / WG), split over x and y above 65535.

override WG: u32 = 256u;

struct Params { n: u32, slot: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> flags: array<atomic<u32>>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn first_nonfinite(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n || i >= arrayLength(&x) || p.slot >= arrayLength(&flags)) { return; }
  if ((bitcast<u32>(x[i]) & 0x7f800000u) == 0x7f800000u) { atomicMin(&flags[p.slot], i); }
}
