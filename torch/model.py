"""A DHEN exported by `c2al export --torch`: the c2al package's model in plain PyTorch.

DhenModel(config) builds the architecture of a checkpoint's config.json as it is (the same JSON the
c2al package writes), with parameter names equal to the names in its model.safetensors, so weights move
between the two engines unchanged: load_safetensors(path) reads them, save_safetensors(path) writes a
file `c2al evaluate --checkpoint` reads back. No dependency beyond torch (the safetensors format is read
and written here, a few lines).

Conventions that differ from torch.nn, kept so the numbers and names match the c2al engine:
  - Linear weights are [in, out] (y = x·W + b), not torch's [out, in].
  - LayerNorm parameters are `gamma` and `beta`; GELU is the tanh approximation.
  - Embedding ids are per field (0 .. vocab-1); fields are stacked into tables `embeddings.tables.i`,
    a field's rows offset by the vocabularies of the fields before it in its table.
"""
import json
import math
import os
import struct
import zlib

import torch
import torch.nn.functional as F
from torch import nn

FORMAT_VERSION = '1'
# WebGPU's default maxStorageBufferBindingSize: a table group holds at most this many bytes unless the
# checkpoint grouped its fields otherwise (load_safetensors follows the file).
DEFAULT_TABLE_BYTES = 1 << 27


# ---------------------------------------------------------------------------------------------- files

def read_safetensors(path):
    """(tensors {name: float32 tensor}, metadata {str: str}); checks the c2al checksum when present."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f'{path}: {len(raw)} bytes is too short for a safetensors file')
    (header_len,) = struct.unpack('<Q', raw[:8])
    if header_len > len(raw) - 8:
        raise ValueError(f'{path}: header length {header_len} exceeds the file: truncated or not safetensors')
    try:
        header = json.loads(raw[8:8 + header_len].decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f'{path}: unreadable safetensors header ({e})') from None
    metadata = header.pop('__metadata__', {}) or {}
    data = raw[8 + header_len:]
    if 'crc32' in metadata and str(zlib.crc32(data)) != metadata['crc32']:
        raise ValueError(f'{path}: checksum mismatch: the data is corrupted or truncated')
    tensors = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
        dtype = {'F32': torch.float32, 'F64': torch.float64}.get(info['dtype'])
        if dtype is None:
            raise ValueError(f"{path}: tensor '{name}' has dtype {info['dtype']}; F32 or F64 expected")
        begin, end = info['data_offsets']
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else torch.zeros(0, dtype=dtype)
        tensors[name] = t.reshape(info['shape']).to(torch.float32)
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes float32 tensors (in the given order) with the c2al format tag and checksum, atomically."""
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().to('cpu', torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    data = b''.join(chunks)
    header['__metadata__'] = {**(metadata or {}), 'format': 'c2al', 'version': FORMAT_VERSION, 'crc32': str(zlib.crc32(data))}
    head = json.dumps(header, separators=(',', ':'))
    head += ' ' * ((8 - (8 + len(head)) % 8) % 8)
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(head)) + head.encode('utf-8') + data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------- layers

def _xavier(fan_in, fan_out, shape):
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))


class Linear(nn.Module):
    """y = x·W + b with W [in, out]."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weight = _xavier(in_features, out_features, (in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x):
        y = x @ self.weight
        return y + self.bias if self.bias is not None else y


class LayerNorm(nn.Module):
    def __init__(self, features, eps=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(features))
        self.beta = nn.Parameter(torch.zeros(features))
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.gamma, self.beta, self.eps)


ACTIVATIONS = {
    'relu': F.relu,
    'gelu': lambda x: F.gelu(x, approximate='tanh'),
    'silu': F.silu,
    'none': lambda x: x,
}


class MLP(nn.Module):
    """Linear layers of `sizes` ([in, hidden…, out]), the activation (and dropout while training) after all but the last."""

    def __init__(self, sizes, activation='relu', dropout=0.0):
        super().__init__()
        self.layers = nn.ModuleList(Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = ACTIVATIONS[activation]
        self.dropout = dropout

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = self.activation(x)
                if self.training and self.dropout > 0:
                    x = F.dropout(x, self.dropout)
        return x


# ----------------------------------------------------------------------------------------- embeddings

def group_fields(fields, max_rows):
    """Contiguous groups of fields holding at most max_rows rows each (as the c2al engine groups them)."""
    groups, rows = [], 0
    for f in fields:
        if f['vocab'] > max_rows:
            raise ValueError(f"table '{f['name']}' ({f['vocab']} rows) exceeds the {max_rows} rows of one table")
        if not groups or rows + f['vocab'] > max_rows:
            groups.append([])
            rows = 0
        groups[-1].append(f)
        rows += f['vocab']
    return groups


class Embeddings(nn.Module):
    def __init__(self, fields, dim, max_table_bytes=DEFAULT_TABLE_BYTES):
        super().__init__()
        self.fields, self.dim = fields, dim
        self._build([len(g) for g in group_fields(fields, max_table_bytes // (4 * dim))])

    def _build(self, group_sizes):
        self.group_sizes = list(group_sizes)
        tables, first = [], 0
        for size in group_sizes:
            rows = sum(f['vocab'] for f in self.fields[first:first + size])
            tables.append(nn.Parameter(torch.randn(rows, self.dim) * 0.05))
            first += size
        self.tables = nn.ParameterList(tables)
        # Per table: each field's vocabulary and row offset, computed once (buffers follow .to(device)).
        first = 0
        for i, size in enumerate(group_sizes):
            vocab = torch.tensor([f['vocab'] for f in self.fields[first:first + size]])
            self.register_buffer(f'vocab_{i}', vocab, persistent=False)
            self.register_buffer(f'base_{i}', torch.cumsum(torch.cat([vocab.new_zeros(1), vocab[:-1]]), 0), persistent=False)
            first += size

    def regroup(self, table_rows):
        """Re-stacks the fields into tables of the given row counts (a checkpoint grouped on another adapter)."""
        sizes, first = [], 0
        for rows in table_rows:
            size, total = 0, 0
            while total < rows and first + size < len(self.fields):
                total += self.fields[first + size]['vocab']
                size += 1
            if total != rows:
                raise ValueError(f'tables of {table_rows} rows do not split the fields {[(f["name"], f["vocab"]) for f in self.fields]}')
            sizes.append(size)
            first += size
        if first != len(self.fields):
            raise ValueError(f'tables of {table_rows} rows do not hold every field')
        if sizes != self.group_sizes:
            like = self.tables[0]
            self._build(sizes)
            self.to(like.device, like.dtype)

    def forward(self, ids):
        parts, first = [], 0
        for i, (table, size) in enumerate(zip(self.tables, self.group_sizes)):
            cols = ids[:, first:first + size]
            vocab, base = getattr(self, f'vocab_{i}'), getattr(self, f'base_{i}')
            bad = (cols < 0) | (cols >= vocab)
            if bool(bad.any()):
                row, col = (int(v) for v in bad.nonzero()[0])
                f = self.fields[first + col]
                raise ValueError(f"table '{f['name']}': id {int(cols[row, col])} at row {row} is outside its vocabulary of {f['vocab']} rows")
            parts.append(F.embedding(cols + base, table))
            first += size
        return parts[0] if len(parts) == 1 else torch.cat(parts, 1)


# ---------------------------------------------------------------------------------------- interactions

class FmAttention(nn.Module):
    """G = X·(Xᵀ·Y), Y learned [n, k] or generated per sample (+ a learned Y₀); vec G → LayerNorm → MLP → [B, m, d]."""

    def __init__(self, fields, dim, spec):
        super().__init__()
        self.fields, self.dim, self.k = fields, dim, spec['k']
        self.out_fields = fields
        generated = spec.get('y', 'learned') == 'generated'
        if not generated or spec.get('y0'):
            self.y = nn.Parameter(torch.randn(fields, self.k) / math.sqrt(fields))
        else:
            self.y = None
        if generated:
            self.attention_norm = LayerNorm(fields * dim)
            self.attention = MLP([fields * dim, *spec.get('attentionHidden', [64]), fields * self.k])
        else:
            self.attention_norm = self.attention = None
        self.norm = LayerNorm(fields * self.k)
        self.mlp = MLP([fields * self.k, *spec.get('hidden', []), self.out_fields * dim])

    def forward(self, x):
        b = x.shape[0]
        if self.attention is not None:
            y = self.attention(self.attention_norm(x.reshape(b, -1))).reshape(b, self.fields, self.k)
            if self.y is not None:
                y = y + self.y
        else:
            y = self.y
        g = x @ (x.transpose(1, 2) @ y)  # [B, n, k]
        return self.mlp(self.norm(g.reshape(b, -1))).reshape(b, self.out_fields, self.dim)


class LinearCompress(nn.Module):
    """W·X over the field axis, W [m, n]."""

    def __init__(self, fields, out_fields):
        super().__init__()
        self.out_fields = out_fields
        self.weight = _xavier(fields, out_fields, (out_fields, fields))

    def forward(self, x):
        return self.weight @ x


class CrossLayer(nn.Module):
    def __init__(self, width, rank):
        super().__init__()
        if rank:
            self.u = _xavier(width, rank, (width, rank))
            self.v = _xavier(width, rank, (width, rank))
            self.weight = None
        else:
            self.weight = _xavier(width, width, (width, width))
        self.b = nn.Parameter(torch.zeros(width))

    def forward(self, x0, xl):
        wx = xl @ self.weight if self.weight is not None else (xl @ self.v) @ self.u.T
        return x0 * (wx + self.b) + xl


class CrossNet(nn.Module):
    """DCN-v2 on x0 = vec(X): x_{l+1} = x0 ⊙ (W_l·x_l + b_l) + x_l, W full or U·Vᵀ."""

    def __init__(self, fields, dim, spec):
        super().__init__()
        self.out_fields = fields
        self.cross = nn.ModuleList(CrossLayer(fields * dim, spec.get('rank')) for _ in range(spec.get('layers', 2)))

    def forward(self, x):
        x0 = x.reshape(x.shape[0], -1)
        xl = x0
        for layer in self.cross:
            xl = layer(x0, xl)
        return xl.reshape(x.shape)


class DotInteraction(nn.Module):
    """DLRM: the upper triangle (i < j) of X·Xᵀ, row by row → MLP → [B, m, d]."""

    def __init__(self, fields, dim, spec):
        super().__init__()
        if fields < 2:
            raise ValueError(f'DotInteraction: needs at least 2 fields, got {fields}')
        self.dim, self.out_fields = dim, spec.get('fields', fields)
        self.register_buffer('pairs', torch.triu_indices(fields, fields, 1), persistent=False)
        self.mlp = MLP([fields * (fields - 1) // 2, *spec.get('hidden', []), self.out_fields * dim])

    def forward(self, x):
        z = x @ x.transpose(1, 2)
        return self.mlp(z[:, self.pairs[0], self.pairs[1]]).reshape(x.shape[0], self.out_fields, self.dim)


class FieldAttention(nn.Module):
    """Multi-head self-attention over fields: softmax(Q·Kᵀ/√dk)·V per head, then a projection back to d."""

    def __init__(self, fields, dim, spec):
        super().__init__()
        self.out_fields = fields
        self.heads = spec.get('heads', 2)
        self.head_dim = spec.get('headDim', max(1, dim // self.heads))
        inner = self.heads * self.head_dim
        self.query = Linear(dim, inner, bias=False)
        self.key = Linear(dim, inner, bias=False)
        self.value = Linear(dim, inner, bias=False)
        self.output = Linear(inner, dim)

    def forward(self, x):
        b, n, _ = x.shape

        def split(t):
            return t.reshape(b, n, self.heads, self.head_dim).permute(0, 2, 1, 3)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        attention = torch.softmax((q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim), -1)
        return self.output((attention @ v).permute(0, 2, 1, 3).reshape(b, n, self.heads * self.head_dim))


# The config's module type → (class, the child name its parameters sit under: `modules.<i>.<name>.…`).
INTERACTIONS = {
    'fm': (FmAttention, 'fm'),
    'linearCompress': (None, 'compress'),
    'cross': (CrossNet, 'cross'),
    'dot': (DotInteraction, 'dot'),
    'attention': (FieldAttention, 'attention'),
}


class _Slot(nn.Module):
    """One ensemble member, registered under its type's name so parameter names read `modules.0.fm.y`."""

    def __init__(self, name, module):
        super().__init__()
        self.add_module(name, module)
        self.inner = [module]  # a plain list: not registered twice

    def forward(self, x):
        return self.inner[0](x)


class DhenLayer(nn.Module):
    """X_{l+1} = LayerNorm_d(Ensemble_i(module_i(X_l)) + Shortcut(X_l)); ensemble sum | concat (+ compress) | weighted."""

    def __init__(self, fields, dim, spec):
        super().__init__()
        self.fields, self.dim = fields, dim
        self.ensemble = spec.get('ensemble', 'sum')
        slots = []
        for i, m in enumerate(spec['modules']):
            kind = m.get('type')
            if kind not in INTERACTIONS:
                raise ValueError(f"layers.modules[{i}]: module type {kind!r} is not one of {', '.join(INTERACTIONS)}")
            cls, name = INTERACTIONS[kind]
            module = LinearCompress(fields, m.get('fields', fields)) if kind == 'linearCompress' else cls(fields, dim, m)
            slots.append(_Slot(name, module))
        # `modules` is a method of nn.Module; the checkpoint's names need a child called that, so it is
        # registered in _modules directly (named_parameters, state_dict and .to() all see it).
        self._modules['modules'] = nn.ModuleList(slots)
        out_fields = [s.inner[0].out_fields for s in slots]
        if self.ensemble != 'concat' and any(f != fields for f in out_fields):
            raise ValueError(f"DHEN layer: ensemble '{self.ensemble}' needs every module to output {fields} fields, got {out_fields}")
        self.project = LinearCompress(sum(out_fields), fields) if self.ensemble == 'concat' else None
        self.ensemble_logits = nn.Parameter(torch.zeros(len(slots), 1, 1)) if self.ensemble == 'weighted' else None
        self.shortcut = LinearCompress(fields, fields) if spec.get('shortcut') == 'project' else None
        self.norm = LayerNorm(dim)

    @property
    def members(self):
        return self._modules['modules']

    def forward(self, x):
        outs = [m(x) for m in self.members]
        if self.ensemble == 'concat':
            ens = self.project(torch.cat(outs, 1))
        elif self.ensemble == 'weighted':
            w = torch.softmax(self.ensemble_logits, 0)
            ens = sum(w[i] * o for i, o in enumerate(outs))
        else:
            ens = outs[0]
            for o in outs[1:]:
                ens = ens + o
        return self.norm(ens + (self.shortcut(x) if self.shortcut is not None else x))


CONFIG_KEYS = {'fields', 'dim', 'dense', 'denseFields', 'layers', 'head', 'auxHeads', 'auxHead', 'seed'}


class DhenModel(nn.Module):
    """ids [B, fields] (+ dense [B, dense]) → {head: logits [B]}: 'primary', then config['auxHeads']."""

    def __init__(self, config, max_table_bytes=DEFAULT_TABLE_BYTES):
        super().__init__()
        unknown = set(config) - CONFIG_KEYS
        if unknown:
            raise ValueError(f'config: unknown keys {sorted(unknown)} (this model.py knows {sorted(CONFIG_KEYS)})')
        self.config = config
        d = config['dim']
        dense_fields = config.get('denseFields', 1) if config.get('dense') else 0
        self.total_fields = len(config['fields']) + dense_fields
        self.embeddings = Embeddings(config['fields'], d, max_table_bytes)
        self.dense = Linear(config['dense'], dense_fields * d) if config.get('dense') else None
        self.layers = nn.ModuleList(DhenLayer(self.total_fields, d, spec) for spec in config['layers'])
        self.head_names = ['primary', *config.get('auxHeads', [])]

        def head(name):
            spec = config['auxHead'] if name != 'primary' and config.get('auxHead') else config['head']
            return MLP([self.total_fields * d, *spec['hidden'], 1], spec.get('activation', 'relu'), spec.get('dropout', 0.0))

        self.heads = nn.ModuleDict({name: head(name) for name in self.head_names})

    def forward(self, ids, dense=None):
        x = self.embeddings(ids)
        if self.dense is not None:
            if dense is None:
                raise ValueError(f"the config has {self.config['dense']} dense features; pass them as [batch, {self.config['dense']}]")
            x = torch.cat([x, self.dense(dense).reshape(x.shape[0], -1, x.shape[2])], 1)
        for layer in self.layers:
            x = layer(x)
        representation = x.reshape(x.shape[0], -1)
        return {name: self.heads[name](representation).reshape(-1) for name in self.head_names}

    def inference_config(self):
        """The serving model's config: the same parameters without the auxiliary heads (c2al's forInference)."""
        return {k: v for k, v in {**self.config, 'auxHeads': []}.items() if k != 'auxHead'}

    def load_safetensors(self, path):
        """Loads a c2al checkpoint; every missing, unexpected or mis-shaped tensor is reported by name, nothing loaded on error."""
        tensors, metadata = read_safetensors(path)
        tables = sorted((int(n.split('.')[-1]), t.shape[0]) for n, t in tensors.items() if n.startswith('embeddings.tables.'))
        if tables and [i for i, _ in tables] == list(range(len(tables))):
            self.embeddings.regroup([rows for _, rows in tables])
        own = dict(self.named_parameters())
        problems = [f"missing tensor '{n}' (expected {list(p.shape)})" for n, p in own.items() if n not in tensors]
        problems += [f"tensor '{n}' has shape {list(tensors[n].shape)}, expected {list(p.shape)}"
                     for n, p in own.items() if n in tensors and tensors[n].shape != p.shape]
        problems += [f"unexpected tensor '{n}'" for n in tensors if n not in own]
        if problems:
            raise ValueError(f'{path} does not match the model (nothing was loaded):\n  ' + '\n  '.join(problems))
        with torch.no_grad():
            for n, p in own.items():
                p.copy_(tensors[n])
        return metadata

    def save_safetensors(self, path, heads=None, metadata=None):
        """Writes the parameters (only the given heads' when `heads` is set: ['primary'] is the serving model)."""
        keep = None if heads is None else {f'heads.{h}.' for h in heads}
        tensors = {n: p for n, p in self.named_parameters()
                   if keep is None or not n.startswith('heads.') or any(n.startswith(k) for k in keep)}
        write_safetensors(path, tensors, metadata)
