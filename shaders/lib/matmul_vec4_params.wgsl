// lib/matmul_vec4_params.wgsl: the Params of matmul_vec4.wgsl and linear.wgsl (one layout, the same words from kernels.ts).
struct Params {
  m: u32, n4: u32, k: u32, batch: u32,
  brank: u32, sam: u32, sak: u32, ktotal: u32,
  bshape: vec4u,
  abs: vec4u,
  bbs4: vec4u,
  lanes: u32,
}
