// matmul_vec4.wgsl: batched C[b] = op(A[b]) · B[b] for B row-major with N % 4 == 0, register-blocked:
// each invocation computes TM = 16 rows × 8 columns (two vec4) and keeps them in registers; no
// workgroup memory. On CPU adapters (lavapipe runs invocations as SIMD lanes) this measured faster than a
// workgroup-memory tile and than one output per thread (docs/kernels.md, "Measurements behind the kernels").
// A(i, k) = a[a_batch + i*sam + k*sak] (any layout, so transA is free); B(k, j4) = b[b_batch4 + k*n4 + j4].
// Edge rows and the second column vec4 are clamped for loads and skipped for stores. With ktotal > 0 it
// writes split-K partials (see MatmulLayout.kTotal); a fixed-order column sum finishes them (ops.ts).
// Bindings: @group(0) 0 a: f32, 1 b: vec4f (read), 2 out: vec4f (read_write); @group(1) 0 Params.
// Grid: batch * ceil(ceil(M/16) / TY) * ceil(ceil(N/8) / TX) workgroups of TX*TY (flat, p.lanes > 0:
// ceil(batch * ceil(M/16) * ceil(N/8) / lanes)), split over x and y above 65535.
// v2 of matmul (v1: matmul.wgsl, one output per thread, any layout).

override TX: u32 = 8u;
override TY: u32 = 4u;
const TM: u32 = 16u;

// #include "lib/matmul_vec4_params.wgsl"

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4f>;
@group(1) @binding(0) var<uniform> p: Params;

fn epilogue(v: vec4f, col4: u32) -> vec4f { return v; }

// #include "lib/matmul_vec4_main.wgsl"
