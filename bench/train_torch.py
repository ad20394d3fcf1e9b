"""PyTorch CPU peer of bench/train.bench.ts: the same DHEN, built from the JSON spec the bench passes, one
training step = forward + BCE-with-logits over the heads + backward + optimizer. The tables take sparse
gradients with SparseAdam (the dense parameters Adam), as our lazy row-sparse Adam does; --dense runs dense
Adam for everything instead. Prints one JSON object: torch version, BLAS, threads, the parameter count (the
bench checks it equals ours) and the median step.

Spec keys: fields (vocabulary per field), dim, layers, k, y ('learned' | 'generated'), y0, fm_hidden,
attention_hidden, head (hidden sizes), heads (1 + auxiliary heads), batch.

Usage: /usr/bin/python3 bench/train_torch.py --spec JSON [--steps N] [--warmup N] [--threads T] [--dense]
Needs Debian's python3-torch (apt-get install python3-torch); no network.
"""
import argparse
import json
import time

import torch
import torch.nn as nn


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class FmAttention(nn.Module):
    """G = X (X^T Y), Y learned [F, k] or generated per sample by an attention MLP over LN(vec X) (+ Y0)."""

    def __init__(self, f, d, s):
        super().__init__()
        self.f, self.k, self.generated = f, s['k'], s['y'] == 'generated'
        self.y = nn.Parameter(torch.randn(f, self.k) / f ** 0.5) if (not self.generated or s['y0']) else None
        if self.generated:
            self.attention_norm = nn.LayerNorm(f * d)
            self.attention = mlp([f * d, *s['attention_hidden'], f * self.k])
        self.norm = nn.LayerNorm(f * self.k)
        self.mlp = mlp([f * self.k, *s['fm_hidden'], f * d])

    def forward(self, x):  # x: [B, F, D]
        b, f, d = x.shape
        if self.generated:
            y = self.attention(self.attention_norm(x.reshape(b, f * d))).reshape(b, f, self.k)
            if self.y is not None:
                y = y + self.y
        else:
            y = self.y
        g = torch.matmul(x, torch.matmul(x.transpose(1, 2), y))  # [B, F, k]
        return self.mlp(self.norm(g.reshape(b, f * self.k))).reshape(b, f, d)


class DhenLayer(nn.Module):
    """FM attention + linear compress, summed, plus the input, then LayerNorm over d."""

    def __init__(self, f, d, s):
        super().__init__()
        self.fm = FmAttention(f, d, s)
        self.compress = nn.Parameter(torch.randn(f, f) * (6 / (2 * f)) ** 0.5)
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        return self.norm(self.fm(x) + torch.matmul(self.compress, x) + x)


class Dhen(nn.Module):
    def __init__(self, s, sparse):
        super().__init__()
        f, d = len(s['fields']), s['dim']
        self.tables = nn.ModuleList([nn.Embedding(v, d, sparse=sparse) for v in s['fields']])
        self.layers = nn.ModuleList([DhenLayer(f, d, s) for _ in range(s['layers'])])
        self.heads = nn.ModuleList([mlp([f * d, *s['head'], 1]) for _ in range(s['heads'])])

    def forward(self, ids):
        x = torch.stack([t(ids[:, i]) for i, t in enumerate(self.tables)], 1)
        for layer in self.layers:
            x = layer(x)
        h = x.reshape(x.shape[0], -1)
        return torch.cat([head(h) for head in self.heads], 1)


def blas():
    config = torch.__config__.show()
    for name in ('mkl', 'openblas', 'blis', 'accelerate'):
        if name in config.lower():
            return name
    return 'unknown'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--spec', required=True)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--dense', action='store_true')
    a = ap.parse_args()
    s = json.loads(a.spec)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    sparse = not a.dense
    model = Dhen(s, sparse)
    tables = [p for n, p in model.named_parameters() if n.startswith('tables.')]
    dense = [p for n, p in model.named_parameters() if not n.startswith('tables.')]
    opts = [torch.optim.SparseAdam(tables, lr=1e-3), torch.optim.Adam(dense, lr=1e-3)] if sparse else [torch.optim.Adam(model.parameters(), lr=1e-3)]
    batch = s['batch']
    ids = torch.stack([torch.randint(0, v, (batch,)) for v in s['fields']], 1)
    y = (torch.rand(batch, s['heads']) < 0.25).float()
    loss_fn = nn.BCEWithLogitsLoss(reduction='sum')
    times = []
    for step in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        for o in opts:
            o.zero_grad(set_to_none=True)
        loss = loss_fn(model(ids), y) / batch
        loss.backward()
        for o in opts:
            o.step()
        if step >= a.warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    step_s = times[len(times) // 2]
    print(json.dumps({
        'torch': torch.__version__, 'blas': blas(), 'threads': torch.get_num_threads(), 'sparse': sparse,
        'parameters': sum(p.numel() for p in model.parameters()), 'steps': a.steps,
        'step_ms': step_s * 1000, 'samples_per_s': batch / step_s, 'spread_ms': [times[0] * 1000, times[-1] * 1000],
    }))


if __name__ == '__main__':
    main()
