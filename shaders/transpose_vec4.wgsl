// transpose_vec4.wgsl: out[c * rows + r] = a[a_off + r * lda + c] for r < rows, c < cols, any 32-bit dtype:
// the 2-D transpose that copy_strided does element by element (the weight and input transposes of a linear
// layer's backward), as 4 × 4 blocks. One invocation loads four vec4s along A's rows and stores four along
// out's rows, with one division per 16 words instead of copy_strided's per-word index walk; on CPU adapters
// every storage access with a lane-varying address is a per-lane loop, so the wide accesses matter too.
// rows, cols, lda and a_off are multiples of 4 (the caller falls back to copy_strided otherwise).
// Bindings: @group(0) 0 a: vec4u (read), 1 out: vec4u (read_write); @group(1) 0 Params.
// Grid: ceil(rows / 4 · cols / 4 / WG) workgroups, split over x and y when above 65535.

override WG: u32 = 64u;

struct Params { rows: u32, cols: u32, lda: u32, a_off: u32 }

@group(0) @binding(0) var<storage, read> a: array<vec4u>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4u>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn transpose_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let rowBlocks = p.rows / 4u;
  if (i >= rowBlocks * (p.cols / 4u)) { return; }
  // Consecutive invocations take consecutive row blocks, so their stores run along out's rows.
  let br = i % rowBlocks;
  let bc = i / rowBlocks;
  let sa = p.lda / 4u;
  let ia = p.a_off / 4u + 4u * br * sa + bc;
  let so = rowBlocks;
  let io = 4u * bc * so + br;
  if (ia + 3u * sa >= arrayLength(&a) || io + 3u * so >= arrayLength(&out)) { return; }
  let x0 = a[ia];
  let x1 = a[ia + sa];
  let x2 = a[ia + 2u * sa];
  let x3 = a[ia + 3u * sa];
  out[io] = vec4u(x0.x, x1.x, x2.x, x3.x);
  out[io + so] = vec4u(x0.y, x1.y, x2.y, x3.y);
  out[io + 2u * so] = vec4u(x0.z, x1.z, x2.z, x3.z);
  out[io + 3u * so] = vec4u(x0.w, x1.w, x2.w, x3.w);
}
