// lib/strided_offsets.wgsl: where output element i reads each of up to three operands through their strides
// (0 on broadcast dimensions), walking the output shape of `rank` dims (≤ 8, as array<vec4u, 2>) from the
// last. Rank 1, the common case after host-side dimension collapsing, needs no index decomposition.
// Included by binary.wgsl, copy.wgsl and where.wgsl; an operand a kernel does not have passes any strides.
fn strided_offsets(i: u32, rank: u32, shape: array<vec4u, 2>, s0: array<vec4u, 2>, s1: array<vec4u, 2>, s2: array<vec4u, 2>) -> vec3u {
  if (rank == 1u) { return i * vec3u(s0[0].x, s1[0].x, s2[0].x); }
  if (rank == 2u) {
    // [rows, cols] (a bias add after collapsing): one division instead of a loop of two.
    let r = i / shape[0].y;
    let c = i - r * shape[0].y;
    return r * vec3u(s0[0].x, s1[0].x, s2[0].x) + c * vec3u(s0[0].y, s1[0].y, s2[0].y);
  }
  var rem = i;
  var o = vec3u(0u);
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let c = rem % shape[k / 4u][k % 4u];
    rem = rem / shape[k / 4u][k % 4u];
    o += c * vec3u(s0[k / 4u][k % 4u], s1[k / 4u][k % 4u], s2[k / 4u][k % 4u]);
  }
  return o;
}
