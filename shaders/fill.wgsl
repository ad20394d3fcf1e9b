// fill.wgsl: out[i] = bits for i < n (any 32-bit dtype; f32 values arrive as their bit pattern).
// Bindings: @group(0) 0 out: u32 (read_write); @group(1) 0 Params.
// Grid: ceil(n / WG), split over x and y when above 65535.

override WG: u32 = 256u;

struct Params { n: u32, bits: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n || i >= arrayLength(&out)) { return; }
  out[i] = p.bits;
}
