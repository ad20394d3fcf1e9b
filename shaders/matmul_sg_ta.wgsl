// matmul_sg_ta.wgsl: batched C[b] = A[b]ᵀ · B[b] for A stored [K, M] row-major (M % 4 == 0, K % 4 == 0) and B
// row-major with N % 4 == 0, on adapters with subgroups of a fixed size SG: matmul_sg for a transposed A, the
// weight gradient Xᵀ·dY of every Linear layer. A workgroup is one subgroup covering 16 rows of C and 2·SG
// column vec4s, as matmul_sg; only the loads of A differ. The 16 rows × 4 k of a k-step are 16 vec4 of the
// stored A (4 k-rows × 4 row quads), so the lanes load them between them (v = lane + g·SG for register g;
// k offset v / 4, row quad v % 4) and hand them out with subgroupBroadcast, where matmul_vec4 read the
// transposed A as 16 scalar loads per k in every lane (each a per-lane loop on lavapipe). The same products
// summed in the same order as matmul_vec4 and matmul_sg: the same bits.
// A(i, k) = a4[a_batch4 + k*sam4 + i/4][i % 4] (sam4: A's stored row, M/4); B(k, j4) = b[b_batch4 + k*n4 + j4].
// Row quads past M are clamped for loads and skipped for stores. With ktotal > 0 it writes split-K partials.
// SG is the adapter's subgroup size: the backend compiles this file with the const below set to it.
// Bindings: @group(0) 0 a: vec4f (read), 1 b: vec4f (read), 2 out: vec4f (read_write); @group(1) 0 Params.
// Grid: batch * ceil(M/16) * ceil(ceil(N/8) / SG) workgroups of SG, split over x and y above 65535.

enable subgroups;

const SG: u32 = 8u;
const TM: u32 = 16u;

// #include "lib/matmul_sg_params.wgsl"

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4f>;
@group(1) @binding(0) var<uniform> p: Params;

fn epilogue(v: vec4f, col4: u32) -> vec4f { return v; }

// Register g of this lane: vec4 v = lane + g·SG of the k-step (lanes past 16 load v = 15), at k offset v / 4
// and row quad v % 4 (clamped at the last quad).
fn a_start(oa: u32, row0: u32, lane: u32, g: u32) -> u32 {
  let v = min(lane + g * SG, TM - 1u);
  return oa + (v / 4u) * p.sam4 + min(row0 / 4u + v % 4u, (p.m - 1u) / 4u);
}
fn a_at(start: u32, k: u32) -> u32 { return start + k * p.sam4; }

// Lanes f..f+3 of g, as the four row quads (subgroupBroadcast takes a constant lane).
fn quads0(g: vec4f) -> mat4x4f { return mat4x4f(subgroupBroadcast(g, 0u), subgroupBroadcast(g, 1u), subgroupBroadcast(g, 2u), subgroupBroadcast(g, 3u)); }
fn quads4(g: vec4f) -> mat4x4f { return mat4x4f(subgroupBroadcast(g, 4u), subgroupBroadcast(g, 5u), subgroupBroadcast(g, 6u), subgroupBroadcast(g, 7u)); }
fn quads8(g: vec4f) -> mat4x4f { return mat4x4f(subgroupBroadcast(g, 8u), subgroupBroadcast(g, 9u), subgroupBroadcast(g, 10u), subgroupBroadcast(g, 11u)); }
fn quads12(g: vec4f) -> mat4x4f {
  return mat4x4f(subgroupBroadcast(g, 12u), subgroupBroadcast(g, 13u), subgroupBroadcast(g, 14u), subgroupBroadcast(g, 15u));
}

// A(row0 + r, k + j) for r = 0..15 as four row quads: vec4 4j + q sits in register (4j + q) / SG of lane (4j + q) % SG.
fn rows(j: u32, g0: vec4f, g1: vec4f, g2: vec4f, g3: vec4f) -> mat4x4f {
  if (SG == 4u) {
    if (j == 0u) { return quads0(g0); }
    if (j == 1u) { return quads0(g1); }
    if (j == 2u) { return quads0(g2); }
    return quads0(g3);
  }
  if (SG == 8u) {
    if (j == 0u) { return quads0(g0); }
    if (j == 1u) { return quads4(g0); }
    if (j == 2u) { return quads0(g1); }
    return quads4(g1);
  }
  if (j == 0u) { return quads0(g0); }
  if (j == 1u) { return quads4(g0); }
  if (j == 2u) { return quads8(g0); }
  return quads12(g0);
}

// #include "lib/matmul_sg_main.wgsl"
