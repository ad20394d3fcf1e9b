// reduce.wgsl: row reduction of a contiguous [rows, len] matrix into [rows]; OP 0 sum, 1 max.
// Deterministic: each thread folds a fixed strided subset, then a fixed-shape tree in workgroup memory.
// Bindings: @group(0) 0 a: f32 (read), 1 out: f32 (read_write); @group(1) 0 Params.
// Grid: one workgroup per row (rows workgroups, split over x and y when above 65535).
// reduce_cols: column reduction of a contiguous [rows, len] matrix (a tensor's leading axes) into
// [ceil(rows / CHUNK), len] partials: one invocation per (chunk, column) folds its rows in index order.
// The op repeats it until one row is left: no permute copy, no barriers, deterministic.
// Grid: ceil(ceil(rows / CHUNK) · len / WG) workgroups.
// reduce_cols_once: the same two levels in one dispatch, for rows <= CHUNK² (a batch's bias gradient): one
// invocation per column folds each chunk of CHUNK rows in index order, then the chunks' partials in order,
// exactly as reduce_cols and its pass over the partials would (bit for bit), without the second dispatch.
// Grid: ceil(len / WG) workgroups.

override OP: u32;
override WG: u32 = 64u;
// reduce_cols: rows per partial sum (a fixed split, so results do not depend on the adapter).
override CHUNK: u32 = 256u;

struct Params { rows: u32, len: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

var<workgroup> partial: array<f32, WG>;

fn combine(x: f32, y: f32) -> f32 {
  if (OP == 1u) { return max(x, y); }
  return x + y;
}

@compute @workgroup_size(WG)
fn reduce_rows(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
               @builtin(num_workgroups) nwg: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  var neg_inf_bits = 0xff800000u; // a var: WGSL rejects -inf in constant expressions
  var acc = select(0.0, bitcast<f32>(neg_inf_bits), OP == 1u);
  if (row < p.rows) {
    let base = row * p.len;
    for (var j = lid.x; j < p.len; j += WG) {
      if (base + j < arrayLength(&a)) { acc = combine(acc, a[base + j]); }
    }
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (lid.x < s) { partial[lid.x] = combine(partial[lid.x], partial[lid.x + s]); }
    workgroupBarrier();
  }
  if (lid.x == 0u && row < p.rows && row < arrayLength(&out)) { out[row] = partial[0]; }
}

@compute @workgroup_size(WG)
fn reduce_cols(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  let parts = (p.rows + CHUNK - 1u) / CHUNK;
  if (idx >= parts * p.len || idx >= arrayLength(&out)) { return; }
  let col = idx % p.len;
  let r0 = (idx / p.len) * CHUNK;
  let r1 = min(p.rows, r0 + CHUNK);
  var neg_inf_bits = 0xff800000u;
  var acc = select(0.0, bitcast<f32>(neg_inf_bits), OP == 1u);
  for (var r = r0; r < r1; r++) {
    let i = r * p.len + col;
    if (i < arrayLength(&a)) { acc = combine(acc, a[i]); }
  }
  out[idx] = acc;
}

@compute @workgroup_size(WG)
fn reduce_cols_once(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let col = gid.x + gid.y * nwg.x * WG;
  if (col >= p.len || col >= arrayLength(&out)) { return; }
  let parts = (p.rows + CHUNK - 1u) / CHUNK;
  var neg_inf_bits = 0xff800000u;
  let init = select(0.0, bitcast<f32>(neg_inf_bits), OP == 1u);
  // One chunk is the result as it is; several are folded from the identity, as the partials' pass does.
  var total = init;
  for (var c = 0u; c < parts; c++) {
    var acc = init;
    for (var r = c * CHUNK; r < min(p.rows, (c + 1u) * CHUNK); r++) {
      let i = r * p.len + col;
      if (i < arrayLength(&a)) { acc = combine(acc, a[i]); }
    }
    total = select(combine(total, acc), acc, parts == 1u);
  }
  out[col] = total;
}
