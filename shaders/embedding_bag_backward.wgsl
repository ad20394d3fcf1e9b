// embedding_bag_backward.wgsl: deterministic embedding-bag backward into a row-sparse gradient. The host sorts
// the batch's entries by (table row, position) once per batch; segment u of that order holds every entry
// that reads unique row u, and entry_bag[e] is the bag of sorted entry e. Each output element sums its
// segment in that fixed order, so two runs give identical bits (no atomics).
//   values[u, d] = sum_{e in seg[u] .. seg[u+1]} dout[entry_bag[e], d] · scale(entry_bag[e])
// with scale = 1 (sum) or 1/|bag| (mean).
// Bindings: @group(0) 0 dout: f32 [bags, dim], 1 seg: u32 [unique + 1], 2 entry_bag: u32 [nnz],
// 3 offsets: u32 [bags + 1] (read); 4 values: f32 [unique, dim] (read_write); @group(1) 0 Params.
// Grid: ceil(unique * dim / WG), split over x and y above 65535.

override WG: u32 = 256u;

struct Params { unique: u32, dim: u32, mean: u32 }

@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read> seg: array<u32>;
@group(0) @binding(2) var<storage, read> entry_bag: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> values: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn embedding_bag_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.unique * p.dim || i >= arrayLength(&values) || i / p.dim + 1u >= arrayLength(&seg)) { return; }
  let u = i / p.dim;
  let d = i % p.dim;
  let end = min(seg[u + 1u], arrayLength(&entry_bag));
  var acc = 0.0;
  for (var e = seg[u]; e < end; e++) {
    let bag = entry_bag[e];
    var g = 0.0;
    if (bag * p.dim + d < arrayLength(&dout)) { g = dout[bag * p.dim + d]; }
    if (p.mean == 1u && bag + 1u < arrayLength(&offsets)) { g /= f32(max(offsets[bag + 1u] - offsets[bag], 1u)); }
    acc += g;
  }
  values[i] = acc;
}
