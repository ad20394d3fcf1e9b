// cast.wgsl: converts 32-bit words between dtypes; MODE 0: i32 -> f32, 1: u32 -> f32,
// 2: f32 -> i32 (truncates toward zero), 3: f32 -> u32 (truncates; negatives clamp to 0).
// Bindings: @group(0) 0 a: u32 (read), 1 out: u32 (read_write); @group(1) 0 Params.
// Grid: ceil(n / WG), split over x and y when above 65535.

override MODE: u32;
override WG: u32 = 256u;

struct Params { n: u32 }

@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn cast_words(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n || i >= arrayLength(&out) || i >= arrayLength(&a)) { return; }
  let w = a[i];
  switch MODE {
    case 0u: { out[i] = bitcast<u32>(f32(bitcast<i32>(w))); }
    case 1u: { out[i] = bitcast<u32>(f32(w)); }
    case 2u: { out[i] = bitcast<u32>(i32(bitcast<f32>(w))); }
    default: { out[i] = u32(max(bitcast<f32>(w), 0.0)); }
  }
}
