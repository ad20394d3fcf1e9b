// lib/matmul_vec4_main.wgsl: the body of matmul_vec4.wgsl (helpers, entry point, stores), shared with linear.wgsl.
// The includer declares Params, the bindings a, b and out, and fn epilogue(v: vec4f, col4: u32) -> vec4f: what a
// stored vec4 of output columns col4 becomes (itself, or plus the bias and through the activation).

@compute @workgroup_size(TX * TY)
fn matmul_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32,
               @builtin(num_workgroups) nwg: vec3u) {
  // Tiled (p.lanes == 0): a workgroup covers TX column blocks × TY row blocks (cache locality on CPU
  // adapters, where one workgroup runs on one core); workgroups walk column tiles fastest, then row tiles,
  // then the batch. Flat (p.lanes > 0): the first p.lanes lanes of each workgroup take consecutive blocks,
  // column blocks fastest, then row blocks, then the batch — for batch entries too small for a tile (one of
  // 14 × 16 would leave 30 of 32 lanes idle; matmulVec4Flat). The same sums in the same order either way:
  // the mapping changes no bit.
  let w = wid.x + wid.y * nwg.x;
  let col_blocks = (p.n4 + 1u) / 2u;
  let row_blocks = (p.m + TM - 1u) / TM;
  var cb = 0u;
  var rb = 0u;
  var bi = 0u;
  if (p.lanes > 0u) {
    let g = w * p.lanes + lane;
    if (lane >= p.lanes || g >= p.batch * row_blocks * col_blocks) { return; }
    cb = g % col_blocks;
    rb = (g / col_blocks) % row_blocks;
    bi = g / (col_blocks * row_blocks);
  } else {
    let col_tiles = (col_blocks + TX - 1u) / TX;
    let row_tiles = (row_blocks + TY - 1u) / TY;
    if (w >= p.batch * row_tiles * col_tiles) { return; }
    cb = (w % col_tiles) * TX + lane % TX;
    rb = ((w / col_tiles) % row_tiles) * TY + lane / TX;
    if (cb >= col_blocks || rb >= row_blocks) { return; }
    bi = w / (col_tiles * row_tiles);
  }
  let c0 = cb * 2u;
  let row0 = rb * TM;
  var rem = bi;
  var oa = 0u;
  var ob = 0u;
  for (var d = i32(p.brank) - 1; d >= 0; d--) {
    let q = rem % p.bshape[d];
    rem = rem / p.bshape[d];
    oa += q * p.abs[d];
    ob += q * p.bbs4[d];
  }
  // Split-K partials (ktotal > 0): the leading batch dim is the split, and the last split may be short.
  var kcount = p.k;
  if (p.ktotal > 0u) { kcount = min(p.k, p.ktotal - (bi / (p.batch / p.bshape[0])) * p.k); }
  let c1 = min(c0 + 1u, p.n4 - 1u);
  // Row offsets of A, clamped so edge blocks load valid memory (their results are not stored).
  let last = p.m - 1u;
  let r0 = oa + min(row0, last) * p.sam;       let r1 = oa + min(row0 + 1u, last) * p.sam;
  let r2 = oa + min(row0 + 2u, last) * p.sam;  let r3 = oa + min(row0 + 3u, last) * p.sam;
  let r4 = oa + min(row0 + 4u, last) * p.sam;  let r5 = oa + min(row0 + 5u, last) * p.sam;
  let r6 = oa + min(row0 + 6u, last) * p.sam;  let r7 = oa + min(row0 + 7u, last) * p.sam;
  let r8 = oa + min(row0 + 8u, last) * p.sam;  let r9 = oa + min(row0 + 9u, last) * p.sam;
  let r10 = oa + min(row0 + 10u, last) * p.sam; let r11 = oa + min(row0 + 11u, last) * p.sam;
  let r12 = oa + min(row0 + 12u, last) * p.sam; let r13 = oa + min(row0 + 13u, last) * p.sam;
  let r14 = oa + min(row0 + 14u, last) * p.sam; let r15 = oa + min(row0 + 15u, last) * p.sam;
  // Accumulators as named matrices: private arrays indexed in loops stay in memory on lavapipe (about half
  // the rate). Column j of acc_q_c holds output row 4q + j, columns 4c..4c+3 of this block.
  var acc00 = mat4x4f(); var acc10 = mat4x4f(); var acc20 = mat4x4f(); var acc30 = mat4x4f();
  var acc01 = mat4x4f(); var acc11 = mat4x4f(); var acc21 = mat4x4f(); var acc31 = mat4x4f();
  for (var k = 0u; k < kcount; k++) {
    let b0 = b[ob + k * p.n4 + c0];
    let b1 = b[ob + k * p.n4 + c1];
    let ka = k * p.sak;
    let a0 = vec4f(a[r0 + ka], a[r1 + ka], a[r2 + ka], a[r3 + ka]);
    let a1 = vec4f(a[r4 + ka], a[r5 + ka], a[r6 + ka], a[r7 + ka]);
    let a2 = vec4f(a[r8 + ka], a[r9 + ka], a[r10 + ka], a[r11 + ka]);
    let a3 = vec4f(a[r12 + ka], a[r13 + ka], a[r14 + ka], a[r15 + ka]);
    acc00 += mat4x4f(b0 * a0.x, b0 * a0.y, b0 * a0.z, b0 * a0.w);
    acc01 += mat4x4f(b1 * a0.x, b1 * a0.y, b1 * a0.z, b1 * a0.w);
    acc10 += mat4x4f(b0 * a1.x, b0 * a1.y, b0 * a1.z, b0 * a1.w);
    acc11 += mat4x4f(b1 * a1.x, b1 * a1.y, b1 * a1.z, b1 * a1.w);
    acc20 += mat4x4f(b0 * a2.x, b0 * a2.y, b0 * a2.z, b0 * a2.w);
    acc21 += mat4x4f(b1 * a2.x, b1 * a2.y, b1 * a2.z, b1 * a2.w);
    acc30 += mat4x4f(b0 * a3.x, b0 * a3.y, b0 * a3.z, b0 * a3.w);
    acc31 += mat4x4f(b1 * a3.x, b1 * a3.y, b1 * a3.z, b1 * a3.w);
  }
  let base = bi * p.m * p.n4;
  store(base, row0, c0, acc00, acc01);
  store(base, row0 + 4u, c0, acc10, acc11);
  store(base, row0 + 8u, c0, acc20, acc21);
  store(base, row0 + 12u, c0, acc30, acc31);
}

fn store(base: u32, row: u32, c0: u32, left: mat4x4f, right: mat4x4f) {
  for (var j = 0u; j < 4u; j++) {
    if (row + j < p.m) {
      out[base + (row + j) * p.n4 + c0] = epilogue(left[j], c0);
      if (c0 + 1u < p.n4) { out[base + (row + j) * p.n4 + c0 + 1u] = epilogue(right[j], c0 + 1u); }
    }
  }
}
