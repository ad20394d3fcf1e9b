// lib/matmul_sg_main.wgsl: the body of matmul_sg.wgsl (helpers, entry point, stores), shared with linear_sg.wgsl.
// The includer declares Params, the bindings a, b and out, fn epilogue(v: vec4f, col4: u32) -> vec4f: what a
// stored vec4 of output columns col4 becomes (itself, or plus the bias and through the activation), and how A
// is read: fn a_start(oa, row0, lane, g) -> u32, where register g of this lane starts, fn a_at(start, k) -> u32,
// its vec4 for the k-step starting at k, and fn rows(j, g0, g1, g2, g3) -> mat4x4f, A(row0 + r, k + j) for
// r = 0..15 as four row quads from the lanes' registers (lib/matmul_sg_rows.wgsl for A row-major,
// matmul_sg_ta.wgsl for A transposed).

// Outer-product update of a 4-row × 4-column block: column i of the result is row i of the block.
fn outer(acc: mat4x4f, bv: vec4f, av: vec4f) -> mat4x4f {
  return acc + mat4x4f(bv * av.x, bv * av.y, bv * av.z, bv * av.w);
}

@compute @workgroup_size(SG)
fn matmul_sg(@builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) lane: u32,
             @builtin(num_workgroups) nwg: vec3u) {
  // Workgroups walk row blocks fastest (the lanes' B columns stay in cache across them), then column
  // tiles, then the batch. Every exit before the stores is uniform across the subgroup.
  let w = wid.x + wid.y * nwg.x;
  let row_tiles = (p.m + TM - 1u) / TM;
  let col_tiles = ((p.n4 + 1u) / 2u + SG - 1u) / SG;
  if (w >= p.batch * row_tiles * col_tiles) { return; }
  let row0 = (w % row_tiles) * TM;
  // This lane's first column vec4 (stored only if inside N; loads clamp it).
  let cs = ((w / row_tiles) % col_tiles * SG + lane) * 2u;
  let c0 = min(cs, p.n4 - 1u);
  let c1 = min(c0 + 1u, p.n4 - 1u);
  var rem = w / (row_tiles * col_tiles);
  let bi = rem;
  var oa = 0u;
  var ob = 0u;
  for (var d = i32(p.brank) - 1; d >= 0; d--) {
    let q = rem % p.bshape[d];
    rem = rem / p.bshape[d];
    oa += q * p.abs4[d];
    ob += q * p.bbs4[d];
  }
  var kcount = p.k;
  if (p.ktotal > 0u) { kcount = min(p.k, p.ktotal - (bi / (p.batch / p.bshape[0])) * p.k); }
  let ra0 = a_start(oa, row0, lane, 0u);
  let ra1 = a_start(oa, row0, lane, 1u);
  let ra2 = a_start(oa, row0, lane, 2u);
  let ra3 = a_start(oa, row0, lane, 3u);
  var acc00 = mat4x4f(); var acc10 = mat4x4f(); var acc20 = mat4x4f(); var acc30 = mat4x4f();
  var acc01 = mat4x4f(); var acc11 = mat4x4f(); var acc21 = mat4x4f(); var acc31 = mat4x4f();
  for (var k = 0u; k < kcount; k += 4u) {
    let g0 = a[a_at(ra0, k)];
    var g1 = vec4f();
    var g2 = vec4f();
    var g3 = vec4f();
    if (SG < 16u) { g1 = a[a_at(ra1, k)]; }
    if (SG < 8u) { g2 = a[a_at(ra2, k)]; g3 = a[a_at(ra3, k)]; }
    for (var j = 0u; j < 4u; j++) {
      let av = rows(j, g0, g1, g2, g3);
      let b0 = b[ob + (k + j) * p.n4 + c0];
      let b1 = b[ob + (k + j) * p.n4 + c1];
      acc00 = outer(acc00, b0, av[0]); acc01 = outer(acc01, b1, av[0]);
      acc10 = outer(acc10, b0, av[1]); acc11 = outer(acc11, b1, av[1]);
      acc20 = outer(acc20, b0, av[2]); acc21 = outer(acc21, b1, av[2]);
      acc30 = outer(acc30, b0, av[3]); acc31 = outer(acc31, b1, av[3]);
    }
  }
  // Lanes whose columns lie past N computed clamped copies: only in-range columns are stored.
  if (cs >= p.n4) { return; }
  let base = bi * p.m * p.n4;
  store(base, row0, cs, acc00, acc01);
  store(base, row0 + 4u, cs, acc10, acc11);
  store(base, row0 + 8u, cs, acc20, acc21);
  store(base, row0 + 12u, cs, acc30, acc31);
}

fn store(base: u32, row: u32, c0: u32, left: mat4x4f, right: mat4x4f) {
  for (var j = 0u; j < 4u; j++) {
    if (row + j < p.m) {
      out[base + (row + j) * p.n4 + c0] = epilogue(left[j], c0);
      if (c0 + 1u < p.n4) { out[base + (row + j) * p.n4 + c0 + 1u] = epilogue(right[j], c0 + 1u); }
    }
  }
}
