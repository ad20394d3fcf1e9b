// bce_with_logits.wgsl: fused sigmoid + binary cross-entropy from logits for H heads at once, forward and backward in
// one dispatch. For logits x, labels y, weights w (all [B, H], row-major):
//   loss_sum[h] = sum_b w·(max(x, 0) − x·y + log1p(exp(−|x|)))    (stable for any |x|)
//   dlogits[b, h] = w·(sigmoid(x) − y)                               (gradient of loss_sum[h])
// One workgroup per head: threads fold rows b = lid, lid + WG, … then a fixed-shape tree: deterministic.
// Bindings: @group(0) 0 logits, 1 labels, 2 weights: f32 (read); 3 loss_sum: f32 [H], 4 dlogits: f32 [B, H]
// (read_write); @group(1) 0 Params.
// Grid: H workgroups (split over x and y above 65535).

override WG: u32 = 256u;

struct Params { rows: u32, heads: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss_sum: array<f32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/workgroup_sum.wgsl"

fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

// log(1 + x) without cancellation for small x (Goldberg's trick).
fn log1p(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log(u) * x / (u - 1.0);
}

@compute @workgroup_size(WG)
fn bce_with_logits(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
              @builtin(num_workgroups) nwg: vec3u) {
  let h = wid.x + wid.y * nwg.x;
  var acc = 0.0;
  if (h < p.heads) {
    for (var b = lid.x; b < p.rows; b += WG) {
      let i = b * p.heads + h;
      if (i < arrayLength(&dlogits)) {
        let x = logits[i];
        let y = labels[i];
        let w = weights[i];
        acc += w * (max(x, 0.0) - x * y + log1p(exp(-abs(x))));
        dlogits[i] = w * (sigmoid(x) - y);
      }
    }
  }
  let total = workgroup_sum(acc, lid.x);
  if (lid.x == 0u && h < p.heads && h < arrayLength(&loss_sum)) { loss_sum[h] = total; }
}
