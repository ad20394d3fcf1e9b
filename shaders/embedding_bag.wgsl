// embedding_bag.wgsl: embedding-bag gather. Bags are CSR: bag i pools table rows rows[offsets[i] .. offsets[i+1]]
// by sum, or by mean when p.mean = 1 (an empty bag gives zeros). A single-hot lookup is a bag of one.
//   out[i, d] = scale_i · sum_e table[rows[e], d]
// Bindings: @group(0) 0 table: f32 [R, dim], 1 rows: u32 [nnz], 2 offsets: u32 [bags + 1] (read);
// 3 out: f32 [bags, dim] (read_write); @group(1) 0 Params.
// Grid: ceil(bags * dim / WG), split over x and y above 65535.

override WG: u32 = 256u;

struct Params { bags: u32, dim: u32, mean: u32 }

@group(0) @binding(0) var<storage, read> table: array<f32>;
@group(0) @binding(1) var<storage, read> rows: array<u32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn embedding_bag(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.bags * p.dim || i >= arrayLength(&out) || i / p.dim + 1u >= arrayLength(&offsets)) { return; }
  let bag = i / p.dim;
  let d = i % p.dim;
  let start = offsets[bag];
  let end = min(offsets[bag + 1u], arrayLength(&rows));
  var acc = 0.0;
  for (var e = start; e < end; e++) {
    let t = rows[e] * p.dim + d;
    if (t < arrayLength(&table)) { acc += table[t]; }
  }
  if (p.mean == 1u && end > start) { acc /= f32(end - start); }
  out[i] = acc;
}
