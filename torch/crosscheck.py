"""Checks the c2al engine's numbers against this PyTorch model in float64 (`c2al crosscheck --torch` runs it).

    python3 crosscheck.py DIR

DIR holds what c2al wrote: config.json, model.safetensors (the starting weights), batch.json (two
batches: ids, dense, labels per head, λ per head, the Adam settings) and ours.safetensors (c2al's logits
and loss on batch 0, its gradients on both batches, and its weights after two Adam steps). Prints one
JSON object: per head the worst logit difference, the loss difference, per parameter the worst gradient
difference (absolute, and scaled by the tensor's largest reference gradient), and per parameter the
worst difference after the two Adam steps (this optimizer fed c2al's own gradients, so the step's
formula is checked apart from the gradients' rounding).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import DhenModel, read_safetensors  # noqa: E402
from train_c2al import C2alAdam, touched_rows  # noqa: E402


def module_of(name):
    """The module type a parameter belongs to: fm, compress, cross, dot, attention, embeddings, dense, heads, or layer (norm, project, …)."""
    parts = name.split('.')
    if parts[0] in ('embeddings', 'dense', 'heads'):
        return parts[0]
    if parts[0] == 'layers' and len(parts) > 4 and parts[2] == 'modules':
        return parts[4]
    return 'layer'


def main(folder):
    torch.set_default_dtype(torch.float64)
    with open(os.path.join(folder, 'config.json'), encoding='utf-8') as f:
        config = json.load(f)
    with open(os.path.join(folder, 'batch.json'), encoding='utf-8') as f:
        spec = json.load(f)
    ours, _ = read_safetensors(os.path.join(folder, 'ours.safetensors'))
    model = DhenModel(config).double()
    model.load_safetensors(os.path.join(folder, 'model.safetensors'))
    model.eval()  # dropout off: c2al ran the same batches without it
    start = {n: p.detach().clone() for n, p in model.named_parameters()}

    def objective(batch):
        ids = torch.tensor(batch['ids'], dtype=torch.int64)
        dense = torch.tensor(batch['dense'], dtype=torch.float64) if batch.get('dense') is not None else None
        labels = torch.tensor(batch['labels'], dtype=torch.float64)  # [B, heads]
        logits = model(ids, dense)
        z = torch.stack([logits[h] for h in model.head_names], 1)
        per_head = F.binary_cross_entropy_with_logits(z, labels, reduction='none').sum(0)
        return logits, (per_head * torch.tensor(spec['lambdas'])).sum() / ids.shape[0], ids

    logits, loss, _ = objective(spec['batches'][0])
    loss.backward()
    report = {'torch': torch.__version__, 'dtype': 'float64', 'logits': {}, 'grads': [], 'adam': []}
    for h in model.head_names:
        ref, got = logits[h].detach(), ours[f'logits.{h}'].double()
        report['logits'][h] = {'maxAbs': float((got - ref).abs().max()), 'maxRef': float(ref.abs().max())}
    got_loss = float(ours['loss'].reshape(-1)[0])
    report['loss'] = {'ours': got_loss, 'ref': float(loss), 'absDiff': abs(got_loss - float(loss)), 'relDiff': abs(got_loss - float(loss)) / abs(float(loss))}
    for n, p in model.named_parameters():
        ref, got = p.grad.detach(), ours[f'grad0.{n}'].double()
        diff, scale = float((got - ref).abs().max()), float(ref.abs().max())
        report['grads'].append({'name': n, 'module': module_of(n), 'maxAbs': diff, 'maxRef': scale, 'scaled': diff / scale if scale > 0 else diff})

    # Two Adam steps from the starting weights with c2al's gradients: the update formula on its own.
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(start[n])
    a = spec['adam']
    opt = C2alAdam(model.named_parameters(), a['lr'], a.get('weightDecay', 0.0), a.get('embeddingL2', 0.0), (a.get('beta1', 0.9), a.get('beta2', 0.999)),
                   a.get('eps', 1e-8))
    for i, batch in enumerate(spec['batches']):
        for n, p in model.named_parameters():
            p.grad = ours[f'grad{i}.{n}'].double()
        ids = torch.tensor(batch['ids'], dtype=torch.int64)
        opt.step(touched_rows(model, ids))
    for n, p in model.named_parameters():
        got = ours[f'after.{n}'].double()
        report['adam'].append({'name': n, 'module': module_of(n), 'maxAbs': float((got - p.detach()).abs().max())})
    worst = max(report['grads'], key=lambda g: g['scaled'])
    report['worst'] = {'gradient': worst, 'adam': max(report['adam'], key=lambda g: g['maxAbs'])}
    print(json.dumps(report))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        raise SystemExit('usage: python3 crosscheck.py DIR')
    main(sys.argv[1])
