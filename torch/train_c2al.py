"""Trains an exported c2al DHEN with the C2AL objective in PyTorch, on one process or many (torchrun + DDP).

    python3 train_c2al.py --data clicks.csv --schema schema.json --out trained/
    torchrun --standalone --nproc_per_node 4 train_c2al.py --data clicks.csv --schema schema.json --out trained/

The objective is c2al's: L = BCE(z_p, y) + Σ_c λ_c·BCE(z_c, y·1[x∈c]), each term a mean over the batch,
one auxiliary head per cohort in config['auxHeads'] order (--cohorts names them); the heads are dropped
from the serving model. The CSV is read exactly as `c2al ... --data csv:FILE --schema FILE` reads it
(the same ids, standardization, cohorts, and the same train / validation / test split), so the saved
model.safetensors + config.json go back to `c2al evaluate --checkpoint OUT --data csv:FILE --schema FILE`.

The optimizer is c2al's: Adam; decoupled weight decay (AdamW) on weight matrices, none on biases and
norms; on embedding tables a lazy update of the rows a batch touched, with an L2 term on those rows.
Under torchrun, every rank reads the whole file, a DistributedSampler gives it its share of each global
batch (--batch is the global batch), DDP averages the gradients (gloo on CPU, nccl on CUDA), and the
touched rows are the union over ranks, so every rank applies the same update.
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import DhenModel, read_safetensors  # noqa: E402


# ------------------------------------------------------------------------------------ data (c2al's CSV)

def fnv1a(text):
    h = 0x811C9DC5
    units = text.encode('utf-16-le')  # JavaScript hashes UTF-16 code units
    for i in range(0, len(units), 2):
        h = ((h ^ (units[i] | (units[i + 1] << 8))) * 16777619) & 0xFFFFFFFF
    return h


def load_csv(path, schema_path):
    """(ids [rows, fields] int64, dense [rows, n] or None, labels [rows], cohort [rows], cohort names, fields) as c2al loads them."""
    with open(schema_path, encoding='utf-8') as f:
        schema = json.load(f)
    delim = schema.get('delimiter', ',')
    header = schema.get('header', True)
    buckets = schema.get('hashBuckets', {})
    cat_names, num_names = schema['categorical'], schema.get('numeric', [])
    dicts = [{} for _ in cat_names]
    cohort_values, ids, nums, labels, cohort_raw = {}, [], [], [], []
    columns = None
    with open(path, encoding='utf-8-sig', newline='') as f:
        text = f.read()
    for n, line in enumerate(text.replace('\r\n', '\n').replace('\r', '\n').split('\n'), 1):
        if line.strip() == '':
            continue
        parts = line.split(delim)
        if columns is None:
            columns = [c.strip() for c in parts] if header else [f'c{i}' for i in range(len(parts))]
            col = {name: columns.index(name) for name in [schema['label'], *cat_names, *num_names, schema['cohort']]}
            if header:
                continue
        if len(parts) != len(columns):
            raise ValueError(f'{path}:{n}: expected {len(columns)} columns, got {len(parts)}')
        label = parts[col[schema['label']]].strip()
        if label not in ('0', '1'):
            raise ValueError(f"{path}:{n}: label must be 0 or 1, got '{label}'")
        row = []
        for k, name in enumerate(cat_names):
            value = parts[col[name]].strip()
            if name in buckets:
                row.append(fnv1a(value) % buckets[name])
            else:
                row.append(dicts[k].setdefault(value, len(dicts[k])))
        ids.append(row)
        nums.append([float(parts[col[c]]) for c in num_names])
        labels.append(int(label))
        c = parts[col[schema['cohort']]].strip()
        cohort_raw.append(float(c) if schema.get('cohortQuantiles') else cohort_values.setdefault(c, len(cohort_values)))
    rows = len(labels)
    fields = [{'name': name, 'vocab': buckets.get(name, max(1, len(dicts[k])))} for k, name in enumerate(cat_names)]
    dense = None
    if num_names:
        raw = torch.tensor(nums, dtype=torch.float64)
        mean = raw.mean(0)
        sd = ((raw - mean) ** 2).mean(0).sqrt()
        dense = ((raw - mean) / torch.where(sd > 0, sd, torch.ones_like(sd))).to(torch.float32)
    if schema.get('cohortQuantiles'):
        q = schema['cohortQuantiles']
        ordered = sorted(cohort_raw)
        cuts = [ordered[((i + 1) * rows) // q] for i in range(q - 1)]
        cohort = [sum(v >= c for c in cuts) for v in cohort_raw]
        names = [f"{schema['cohort']} q{i + 1}" for i in range(q)]
    else:
        seen = list(cohort_values)
        ordered = sorted(seen)
        cohort = [ordered.index(seen[i]) for i in cohort_raw]
        names = [f"{schema['cohort']}={v}" for v in ordered]
    return (torch.tensor(ids, dtype=torch.int64), dense, torch.tensor(labels, dtype=torch.float32),
            torch.tensor(cohort, dtype=torch.int64), names, fields)


def mulberry32(seed):
    a = seed & 0xFFFFFFFF

    def imul(x, y):
        return (x * y) & 0xFFFFFFFF

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return nxt


def split_rows(rows, seed=7, fractions=(0.8, 0.1, 0.1)):
    """c2al's train / validation / test split (splitRows in src/data/schema.ts), row for row."""
    order = list(range(rows))
    nxt = mulberry32(seed * 104729 + 3)
    for i in range(rows - 1, 0, -1):
        j = math.floor(nxt() * (i + 1))
        order[i], order[j] = order[j], order[i]
    a = math.floor(rows * fractions[0] + 0.5)
    b = a + math.floor(rows * fractions[1] + 0.5)
    return {'train': order[:a], 'valid': order[a:b], 'test': order[b:]}


# --------------------------------------------------------------------------------- objective, metrics

def c2al_loss(logits, head_names, labels, cohort, aux_cohorts, lambdas):
    """Σ_h λ_h · mean BCE(z_h, y_h); y_primary = y, y_aux = y·1[cohort = c_aux]."""
    total = F.binary_cross_entropy_with_logits(logits['primary'], labels, reduction='mean')
    for name, c, lam in zip(head_names[1:], aux_cohorts, lambdas):
        target = labels * (cohort == c).to(labels.dtype)
        total = total + lam * F.binary_cross_entropy_with_logits(logits[name], target, reduction='mean')
    return total


def normalized_entropy(p, y):
    """Mean log loss / entropy of the mean label (TorchRec's NE), predictions clamped to [1e-12, 1 − 1e-12]."""
    p = p.double().clamp(1e-12, 1 - 1e-12)
    y = y.double()
    log_loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    rate = y.mean()
    if rate <= 0 or rate >= 1:
        return float('nan')
    return float(log_loss / -(rate * rate.log() + (1 - rate) * (1 - rate).log()))


class C2alAdam:
    """c2al's Adam: AdamW decay on rank >= 2 dense weights, none on vectors; embedding tables updated lazily on touched rows with an L2 term."""

    def __init__(self, named, lr, weight_decay=0.0, embedding_l2=0.0, betas=(0.9, 0.999), eps=1e-8):
        self.named, self.lr, self.wd, self.l2, self.betas, self.eps = list(named), lr, weight_decay, embedding_l2, betas, eps
        self.state = {n: (torch.zeros_like(p), torch.zeros_like(p)) for n, p in self.named}
        self.steps = 0

    @torch.no_grad()
    def step(self, touched):
        """touched: {table parameter name: bool mask [rows]} of the rows this step's batch used."""
        self.steps += 1
        b1, b2 = self.betas
        bc1, bc2 = 1 - b1 ** self.steps, 1 - b2 ** self.steps
        for name, p in self.named:
            if p.grad is None:
                continue
            m, v = self.state[name]
            if name in touched:
                rows = touched[name].nonzero().reshape(-1)
                g = p.grad[rows] + self.l2 * p[rows]
                m[rows] = b1 * m[rows] + (1 - b1) * g
                v[rows] = b2 * v[rows] + (1 - b2) * g * g
                p[rows] -= self.lr * (m[rows] / bc1) / ((v[rows] / bc2).sqrt() + self.eps)
                continue
            if p.dim() >= 2 and self.wd:
                p.mul_(1 - self.lr * self.wd)
            g = p.grad
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            p.sub_(self.lr * (m / bc1) / ((v / bc2).sqrt() + self.eps))


def touched_rows(model, ids):
    """{tables.i name: mask of the rows the batch's ids use} (the union over ranks under DDP)."""
    masks, first = {}, 0
    emb = model.embeddings
    for i, (table, size) in enumerate(zip(emb.tables, emb.group_sizes)):
        base = getattr(emb, f'base_{i}')
        mask = torch.zeros(table.shape[0], dtype=torch.float32, device=ids.device)
        mask[(ids[:, first:first + size] + base).reshape(-1)] = 1
        if dist.is_initialized():
            dist.all_reduce(mask, op=dist.ReduceOp.MAX)
        masks[f'embeddings.tables.{i}'] = mask > 0
        first += size
    return masks


def learning_rate(base, step, warmup, total, schedule):
    if step < warmup:
        return base * (step + 1) / warmup
    if schedule == 'constant' or total <= warmup:
        return base
    t = min(1.0, (step - warmup) / (total - warmup))
    return base * 0.5 * (1 + math.cos(math.pi * t))


# ------------------------------------------------------------------------------------------------ main

def parse_args(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    a = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    a.add_argument('--model', default=here, help='folder with config.json (and model.safetensors to start from); default: this folder')
    a.add_argument('--data', required=True, help='the CSV file')
    a.add_argument('--schema', required=True, help="the JSON schema c2al reads the CSV with")
    a.add_argument('--out', help='where to save model.safetensors + config.json (and c2al-inference/)')
    a.add_argument('--cohorts', help="the auxiliary heads' cohorts, comma separated, in config['auxHeads'] order (names as c2al prints them, or values)")
    a.add_argument('--lambda', dest='lam', type=float, default=1.0, help='λ of every auxiliary head (default 1)')
    a.add_argument('--lr', type=float, default=0.01)
    a.add_argument('--batch', type=int, default=512, help='the global batch (split over the ranks)')
    a.add_argument('--epochs', type=int, default=1)
    a.add_argument('--steps', type=int, help='stop after this many steps')
    a.add_argument('--weight-decay', type=float, default=0.0)
    a.add_argument('--embedding-l2', type=float, default=0.0)
    a.add_argument('--warmup', type=int, default=0)
    a.add_argument('--schedule', choices=['cosine', 'constant'], default='cosine')
    a.add_argument('--clip', type=float, help='clip the global gradient norm')
    a.add_argument('--seed', type=int, default=1)
    a.add_argument('--fresh', action='store_true', help='start from a fresh initialization instead of model.safetensors')
    a.add_argument('--dtype', choices=['float32', 'float64'], default='float32')
    a.add_argument('--device', help='cpu or cuda (default: cuda when available)')
    a.add_argument('--threads', type=int, help='torch.set_num_threads')
    a.add_argument('--evaluate', action='store_true', help="print the serving model's NE on --split (JSON) instead of training")
    a.add_argument('--split', choices=['train', 'valid', 'test'], default='test')
    a.add_argument('--log-every', type=int, default=50)
    return a.parse_args(argv)


def resolve_cohorts(text, names, schema_cohort):
    out = []
    for c in text.split(','):
        c = c.strip()
        full = c if c in names else f'{schema_cohort}={c}'
        if full not in names:
            raise SystemExit(f"train_c2al.py: unknown cohort '{c}'; the cohorts are {', '.join(names)}")
        out.append(names.index(full))
    return out


def main(argv=None):
    args = parse_args(argv)
    distributed = 'WORLD_SIZE' in os.environ and int(os.environ['WORLD_SIZE']) > 1
    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if distributed:
        local = int(os.environ.get('LOCAL_RANK', 0))
        if device.type == 'cuda':
            device = torch.device('cuda', local)
            torch.cuda.set_device(device)
        dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo')
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = torch.float64 if args.dtype == 'float64' else torch.float32
    with open(os.path.join(args.model, 'config.json'), encoding='utf-8') as f:
        config = json.load(f)
    with open(args.schema, encoding='utf-8') as f:
        schema_cohort = json.load(f)['cohort']
    ids, dense, labels, cohort, names, fields = load_csv(args.data, args.schema)
    want = [(f['name'], f['vocab']) for f in config['fields']]
    if want != [(f['name'], f['vocab']) for f in fields]:
        raise SystemExit(f"train_c2al.py: the model was built for fields {want}, the data has {[(f['name'], f['vocab']) for f in fields]}")
    torch.manual_seed(args.seed)
    model = DhenModel(config).to(device, dtype)
    weights = os.path.join(args.model, 'model.safetensors')
    if not args.fresh and os.path.exists(weights):
        model.load_safetensors(weights)
    split = split_rows(len(labels))
    dense_of = (lambda idx: dense[idx].to(device, dtype)) if dense is not None else (lambda idx: None)

    if args.evaluate:
        model.eval()
        idx = torch.tensor(split[args.split])
        with torch.no_grad():
            p = torch.sigmoid(model(ids[idx].to(device), dense_of(idx))['primary']).cpu()
        y, c = labels[idx], cohort[idx]
        result = {'split': args.split, 'rows': len(idx), 'ne': normalized_entropy(p, y),
                  'cohorts': [{'name': n, 'rows': int((c == i).sum()), 'ne': normalized_entropy(p[c == i], y[c == i])} for i, n in enumerate(names)]}
        print(json.dumps(result))
        return result

    aux = model.head_names[1:]
    if aux and not args.cohorts:
        raise SystemExit(f'train_c2al.py: the config has auxiliary heads {aux}; name their cohorts with --cohorts (the cohorts are {", ".join(names)})')
    aux_cohorts = resolve_cohorts(args.cohorts, names, schema_cohort) if aux else []
    if len(aux_cohorts) != len(aux):
        raise SystemExit(f'train_c2al.py: {len(aux)} auxiliary heads need {len(aux)} cohorts, got {len(aux_cohorts)}')
    if args.batch % world:
        raise SystemExit(f'train_c2al.py: --batch {args.batch} does not split over {world} ranks')
    model.train()
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.type == 'cuda' else None) if distributed else model
    train_idx = torch.tensor(split['train'])
    dataset = torch.utils.data.TensorDataset(train_idx)
    sampler = torch.utils.data.distributed.DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=args.seed, drop_last=True)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch // world, sampler=sampler, drop_last=True)
    per_epoch = len(loader)
    total = min(args.steps, per_epoch * args.epochs) if args.steps else per_epoch * args.epochs
    opt = C2alAdam(model.named_parameters(), args.lr, args.weight_decay, args.embedding_l2)
    losses, step = [], 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        for (idx,) in loader:
            if step >= total:
                break
            opt.lr = learning_rate(args.lr, step, args.warmup, total, args.schedule)
            batch_ids = ids[idx].to(device)
            loss = c2al_loss(net(batch_ids, dense_of(idx)), model.head_names, labels[idx].to(device, dtype), cohort[idx].to(device), aux_cohorts,
                             [args.lam] * len(aux))
            for p in model.parameters():
                p.grad = None
            loss.backward()
            if args.clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step(touched_rows(model, batch_ids))
            global_loss = loss.detach().clone()
            if distributed:
                dist.all_reduce(global_loss)
                global_loss /= world
            losses.append(float(global_loss))
            step += 1
            if rank == 0 and args.log_every and step % args.log_every == 0:
                print(f'step {step}/{total}: loss {losses[-1]:.5f}', flush=True)
        if step >= total:
            break

    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).double()
    rank_max_diff = 0.0
    if distributed:
        gathered = [torch.zeros_like(flat) for _ in range(world)]
        dist.all_gather(gathered, flat)
        rank_max_diff = max(float((g - gathered[0]).abs().max()) for g in gathered)
    summary = {'steps': step, 'world': world, 'batch': args.batch, 'dtype': args.dtype, 'device': str(device), 'losses': losses,
               'rankMaxDiff': rank_max_diff, 'parameterSum': float(flat.sum()), 'aux': [names[c] for c in aux_cohorts]}
    if rank == 0 and args.out:
        os.makedirs(os.path.join(args.out, 'c2al-inference'), exist_ok=True)
        meta = {'trainer': 'train_c2al.py', 'steps': str(step), 'world': str(world)}
        model.save_safetensors(os.path.join(args.out, 'model.safetensors'), metadata=meta)
        with open(os.path.join(args.out, 'config.json'), 'w', encoding='utf-8') as f:
            json.dump(config, f, indent=2)
        model.save_safetensors(os.path.join(args.out, 'c2al-inference', 'model.safetensors'), heads=['primary'], metadata=meta)
        with open(os.path.join(args.out, 'c2al-inference', 'config.json'), 'w', encoding='utf-8') as f:
            json.dump(model.inference_config(), f, indent=2)
        with open(os.path.join(args.out, 'train.json'), 'w', encoding='utf-8') as f:
            json.dump(summary, f)
    if rank == 0:
        print(json.dumps({k: v for k, v in summary.items() if k != 'losses'} | {'finalLoss': losses[-1] if losses else None}))
    if distributed:
        dist.destroy_process_group()
    return summary


if __name__ == '__main__':
    main()
