// lib/matmul_sg_rows.wgsl: how matmul_sg.wgsl and linear_sg.wgsl read A (row-major, vec4 along k) for
// lib/matmul_sg_main.wgsl: register g of a lane holds row row0 + lane + g·SG (clamped at the last row; lanes
// past 16 load row 15), four consecutive k per vec4.

fn a_start(oa: u32, row0: u32, lane: u32, g: u32) -> u32 { return oa + min(row0 + min(lane + g * SG, TM - 1u), p.m - 1u) * p.sam4; }
fn a_at(start: u32, k: u32) -> u32 { return start + k / 4u; }

// Lanes f..f+3 of v, as one vec4 (subgroupBroadcast takes a constant lane).
fn lanes0(v: f32) -> vec4f { return vec4f(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u)); }
fn lanes4(v: f32) -> vec4f { return vec4f(subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u), subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u)); }
fn lanes8(v: f32) -> vec4f { return vec4f(subgroupBroadcast(v, 8u), subgroupBroadcast(v, 9u), subgroupBroadcast(v, 10u), subgroupBroadcast(v, 11u)); }
fn lanes12(v: f32) -> vec4f { return vec4f(subgroupBroadcast(v, 12u), subgroupBroadcast(v, 13u), subgroupBroadcast(v, 14u), subgroupBroadcast(v, 15u)); }

// A(row0 + r, k + j) for r = 0..15 as four row quads, from the lanes' loads: row r sits in register
// r / SG of lane r % SG.
fn rows(j: u32, g0: vec4f, g1: vec4f, g2: vec4f, g3: vec4f) -> mat4x4f {
  if (SG == 4u) { return mat4x4f(lanes0(g0[j]), lanes0(g1[j]), lanes0(g2[j]), lanes0(g3[j])); }
  if (SG == 8u) { return mat4x4f(lanes0(g0[j]), lanes4(g0[j]), lanes0(g1[j]), lanes4(g1[j])); }
  return mat4x4f(lanes0(g0[j]), lanes4(g0[j]), lanes8(g0[j]), lanes12(g0[j]));
}
