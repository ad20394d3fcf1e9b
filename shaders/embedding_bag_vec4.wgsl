// embedding_bag_vec4.wgsl: embedding_bag.wgsl four dims per invocation, for dim % 4 == 0. Each invocation reads
// its bag's offsets and row ids once for four outputs instead of once per output (on lavapipe every lane-varying
// load is a per-lane loop, and those reads were three of the four loads per output). The same sums in the
// same order per output: the same bits as embedding_bag.
//   out[i, d] = scale_i · sum_e table[rows[e], d]
// Bindings: @group(0) 0 table: vec4f [R, dim/4], 1 rows: u32 [nnz], 2 offsets: u32 [bags + 1] (read);
// 3 out: vec4f [bags, dim/4] (read_write); @group(1) 0 Params.
// Grid: ceil(bags * dim / 4 / WG), split over x and y above 65535.

override WG: u32 = 256u;

struct Params { bags: u32, dim4: u32, mean: u32 }

@group(0) @binding(0) var<storage, read> table: array<vec4f>;
@group(0) @binding(1) var<storage, read> rows: array<u32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn embedding_bag_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.bags * p.dim4 || i >= arrayLength(&out) || i / p.dim4 + 1u >= arrayLength(&offsets)) { return; }
  let bag = i / p.dim4;
  let d4 = i % p.dim4;
  let start = offsets[bag];
  let end = min(offsets[bag + 1u], arrayLength(&rows));
  var acc = vec4f(0.0);
  for (var e = start; e < end; e++) {
    let t = rows[e] * p.dim4 + d4;
    if (t < arrayLength(&table)) { acc += table[t]; }
  }
  if (p.mean == 1u && end > start) { acc /= f32(end - start); }
  out[i] = acc;
}
