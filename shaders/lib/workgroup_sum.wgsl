// lib/workgroup_sum.wgsl: the sum of one value per invocation over a workgroup of WG (a power of two, the
// includer's override), by a fixed-shape tree in workgroup memory: the same order every run. Every
// invocation of the workgroup must call it (it holds barriers). Included by layer_norm.wgsl,
// layer_norm_backward.wgsl and bce_with_logits.wgsl.
var<workgroup> partial: array<f32, WG>;

fn workgroup_sum(v: f32, lane: u32) -> f32 {
  partial[lane] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (lane < s) { partial[lane] += partial[lane + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}
