// linear_sg.wgsl: the linear op on matmul_sg, a fused epilogue, out = act(A·B + bias): a Linear layer's forward in one
// dispatch (ACT 0 none, 1 relu). The product is rounded to f32 before the bias is added, as a separate add kernel
// does, so the result is bit-identical to matmul, add and relu one after the other. Never split over K.
// As matmul_sg.wgsl: batched C[b] = A[b] · B[b] for A with vec4 rows along k (row-major, K % 4 == 0) and B
// row-major with N % 4 == 0, on adapters with subgroups of a fixed size SG. A workgroup is one subgroup; it
// covers 16 rows (the same for every lane) and 2·SG column vec4s (two per lane, 16×8 outputs per lane).
// Why: on CPU adapters (lavapipe) every storage load whose address differs across lanes becomes a per-lane
// scalar loop (about 15 instructions per float and lane), so the 16 A values a lane needs per k dominated
// matmul_vec4. Here the lanes load the 16 rows' next 4 k once between them (one vec4 each, SG ≥ 16; two or
// four at SG = 8 or 4) and hand them to every lane with subgroupBroadcast, which is a register move.
// A(i, k4) = a[a_batch4 + i*sam4 + k4]; B(k, j4) = b[b_batch4 + k*n4 + j4]; edge rows and the second column
// vec4 are clamped for loads and skipped for stores. With ktotal > 0 it writes split-K partials (the leading
// batch dim is the split, the last one short), as matmul_vec4 does.
// SG is the adapter's subgroup size: the backend compiles this file with the const below set to it.
// Bindings: @group(0) 0 a: vec4f, 1 b: vec4f, 2 bias: vec4f [N/4] (read), 3 out: vec4f (read_write); @group(1) 0 Params.
// Grid: batch * ceil(M/16) * ceil(ceil(N/8) / SG) workgroups of SG, split over x and y above 65535.

enable subgroups;

const SG: u32 = 8u;
const TM: u32 = 16u;

// #include "lib/matmul_sg_params.wgsl"

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
// #include "lib/linear_epilogue.wgsl"

// #include "lib/matmul_sg_rows.wgsl"

// #include "lib/matmul_sg_main.wgsl"
