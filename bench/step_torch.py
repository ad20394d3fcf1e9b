"""PyTorch CPU peer of bench/step.bench.ts: the same reference DHEN (26 fields x vocabulary V, d = 16,
two DHEN layers of {FM attention with learned Y (k = 16), linear compress} summed with a residual and
LayerNorm, head MLP 256-128-1, optional two C2AL auxiliary heads), one training step = forward +
backward + optimizer. Two optimizer set-ups: sparse embedding gradients with SparseAdam (+ Adam for the
dense parameters), and dense Adam for everything. Prints one JSON object.

Usage: /usr/bin/python3 bench/step_torch.py [--steps N] [--batch B] [--vocab V] [--threads T]
Needs Debian's python3-torch (apt-get install python3-torch); no network.
"""
import argparse
import json
import time

import torch
import torch.nn as nn

F, D, K = 26, 16, 16


class FmLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.y = nn.Parameter(torch.randn(F, K) * 0.2)
        self.norm_g = nn.LayerNorm(F * K)
        self.mlp = nn.Linear(F * K, F * D)
        self.compress = nn.Parameter(torch.randn(F, F) * 0.2)
        self.norm = nn.LayerNorm(D)

    def forward(self, x):  # x: [B, F, D]
        b = x.shape[0]
        g = torch.matmul(x, torch.matmul(x.transpose(1, 2), self.y))  # X (X^T Y): [B, F, K]
        fm = self.mlp(self.norm_g(g.reshape(b, F * K))).reshape(b, F, D)
        lc = torch.matmul(self.compress, x)
        return self.norm(fm + lc + x)


class Dhen(nn.Module):
    def __init__(self, vocab, heads, sparse):
        super().__init__()
        self.tables = nn.ModuleList([nn.Embedding(vocab, D, sparse=sparse) for _ in range(F)])
        self.layers = nn.ModuleList([FmLayer(), FmLayer()])
        self.heads = nn.ModuleList([nn.Sequential(nn.Linear(F * D, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 1)) for _ in range(heads)])

    def forward(self, ids):
        x = torch.stack([t(ids[:, i]) for i, t in enumerate(self.tables)], 1)
        for layer in self.layers:
            x = layer(x)
        h = x.reshape(x.shape[0], F * D)
        return torch.cat([head(h) for head in self.heads], 1)


def run(vocab, batch, steps, heads, sparse):
    torch.manual_seed(1)
    model = Dhen(vocab, heads, sparse)
    tables = [p for n, p in model.named_parameters() if n.startswith('tables.')]
    dense = [p for n, p in model.named_parameters() if not n.startswith('tables.')]
    opts = [torch.optim.SparseAdam(tables, lr=1e-3), torch.optim.Adam(dense, lr=1e-3)] if sparse else [torch.optim.Adam(model.parameters(), lr=1e-3)]
    ids = torch.randint(0, vocab, (batch, F))
    y = (torch.rand(batch, heads) < 0.25).float()
    loss_fn = nn.BCEWithLogitsLoss()
    times = []
    first = None
    for s in range(steps + 1):
        t0 = time.perf_counter()
        for o in opts:
            o.zero_grad(set_to_none=True)
        loss = loss_fn(model(ids), y)
        loss.backward()
        for o in opts:
            o.step()
        dt = time.perf_counter() - t0
        if s == 0:
            first = dt
        else:
            times.append(dt)
    times.sort()
    step = times[len(times) // 2]
    return {'heads': heads, 'sparse': sparse, 'step_ms': step * 1000, 'samples_per_s': batch / step, 'first_step_ms': first * 1000}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--batch', type=int, default=2048)
    ap.add_argument('--vocab', type=int, default=100000)
    ap.add_argument('--threads', type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    results = [run(a.vocab, a.batch, a.steps, heads, sparse) for sparse in (True, False) for heads in (1, 3)]
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': a.batch, 'vocab': a.vocab, 'results': results}))


if __name__ == '__main__':
    main()
