// lib/fm_interaction_params.wgsl: the overrides and Params of fm_interaction.wgsl and fm_interaction_vec4.wgsl
// (one layout, the same words from kernels.ts) and their workgroup T.
override WG: u32 = 64u;
override ACC: u32 = 0u;
// Floats of T per workgroup: 16 KiB, WebGPU's default maxComputeWorkgroupStorageSize.
override TMAX: u32 = 4096u;

struct Params { batch: u32, n: u32, m: u32, k: u32, p_stride: u32, q_stride: u32, r_stride: u32, spw: u32 }

// T as vec4 column blocks: t[t0 + c * kb + jb] holds T[c, 4·jb .. 4·jb + 3] of this lane's sample.
var<workgroup> t: array<vec4f, TMAX / 4u>;
