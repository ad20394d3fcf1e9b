// lib/matmul_sg_params.wgsl: the Params of matmul_sg.wgsl, matmul_sg_ta.wgsl and linear_sg.wgsl (one layout, the same words from kernels.ts).
struct Params {
  m: u32, n4: u32, k: u32, batch: u32,
  brank: u32, sam4: u32, ktotal: u32, _pad0: u32,
  bshape: vec4u,
  abs4: vec4u,
  bbs4: vec4u,
}
