"""The fast ModernBERT forward pass: packed sequences, no padding, windowed local attention.

transformers' `ModernBertModel` pads a batch to its longest sequence and applies the local
layers' 128-token window as a dense mask, so on CPU (and on GPU without flash-attn) it spends
most of its time on padding and on attention scores it then throws away. This module runs the
same weights differently:

- the sequences of a batch are packed into one `[tokens, hidden]` tensor, so every linear layer
  (most of the compute) sees only real tokens;
- attention runs per group of adjacent sequences of equal or nearly equal length (the batch is
  sorted), padded to the group's longest inside attention only; a group of one length needs no
  mask at all, and a local layer needs its window only where a sequence is longer than the
  window; a long sequence's local layers attend block by block to the neighbouring blocks
  instead of to the whole sequence;
- with flash-attn installed on CUDA, attention is one variable-length kernel call per layer
  with the sliding window built in.

It reads the weights of a loaded `ModernBertModel` and returns its `last_hidden_state` per
token; `tests/test_fast_path.py` holds it to the reference within the stated tolerances.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from codesearch.model.int8 import Int8Linear

try:  # users with GPUs install flash-attn; everyone else takes the exact SDPA path
    from flash_attn import flash_attn_varlen_func
except ImportError:  # pragma: no cover - depends on the machine
    flash_attn_varlen_func = None


PADDED_ATTENTION_MAX = 512  # sequences up to this length may be padded a little inside attention
STRETCH = 1.25  # ... to at most this many times the group's shortest


@dataclass(frozen=True, slots=True)
class Group:
    """Adjacent sequences of the packed batch attended in one call: tokens [start, end).

    Linear layers never see padding. Attention does, a little: a group of different lengths is
    padded to its longest inside attention only, with the padding masked, because one call on a
    slightly padded group costs far less than one call per distinct length."""

    start: int
    lengths: tuple[int, ...]

    @property
    def width(self) -> int:
        return self.lengths[-1]

    @property
    def end(self) -> int:
        return self.start + sum(self.lengths)

    @property
    def uniform(self) -> bool:
        return self.lengths[0] == self.lengths[-1]


@dataclass(frozen=True, slots=True)
class AttentionPlan:
    """How one group is attended in one kind of layer; built once per batch.

    No `index`: the group has one length and is attended as views of the packed tensors, with no
    mask (`mask` None) or, for long sequences in a windowed layer, block by block (`blocked`).
    With `index`: the group is gathered padded to its width, attended under `mask`, and the rows
    at `valid` are the real tokens."""

    group: Group
    mask: torch.Tensor | None = None
    blocked: bool = False
    index: torch.Tensor | None = None
    valid: torch.Tensor | None = None


def attention_groups(lengths: list[int]) -> list[Group]:
    """Group length-sorted sequences: lengths within STRETCH of the group's first, up to
    PADDED_ATTENTION_MAX; longer sequences only with others of exactly their length."""
    groups: list[Group] = []
    start = 0
    for length in lengths:
        if groups:
            last = groups[-1]
            first = last.lengths[0]
            if length == first or (length <= PADDED_ATTENTION_MAX and (length <= first * STRETCH or
                                                                       length - first <= 8)):
                groups[-1] = Group(last.start, (*last.lengths, length))
                start += length
                continue
        groups.append(Group(start, (length,)))
        start += length
    return groups


def band_mask(length: int, half_window: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """For `local_attention`: 0 where a query of a block may see one of its 3 * half_window keys,
    -inf where not; an additive mask keeps SDPA from converting a boolean one on every call."""
    block = half_window
    blocks = -(-length // block)
    query_pos = torch.arange(blocks * block, device=device).view(blocks, block, 1)
    key_pos = (torch.arange(blocks, device=device).view(blocks, 1, 1) - 1) * block + torch.arange(
        3 * block, device=device
    ).view(1, 1, 3 * block)
    allowed = ((query_pos - key_pos).abs() <= half_window) & (key_pos >= 0) & (key_pos < length)
    return torch.zeros(allowed.shape, device=device, dtype=dtype).masked_fill_(~allowed, float("-inf"))


def local_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, half_window: int,
                    mask: torch.Tensor | None = None) -> torch.Tensor:
    """Attention where token i sees token j only if |i - j| <= half_window, for [B, H, L, D] inputs.

    The sequence is cut into blocks of `half_window` queries; each block attends to itself and
    its two neighbours (3 blocks of keys) under a small band mask, so the cost grows with
    L * 3 * half_window instead of L * L.
    """
    batch, heads, length, dim = q.shape
    block = half_window
    blocks = -(-length // block)
    padded = blocks * block

    def pad(x: torch.Tensor, before: int, after: int) -> torch.Tensor:
        return F.pad(x, (0, 0, before, after))

    # 4-D shapes [batch, heads * blocks, rows, dim] keep SDPA on its fused CPU kernel
    q_blocks = pad(q, 0, padded - length).reshape(batch, heads * blocks, block, dim)

    def neighbours(x: torch.Tensor) -> torch.Tensor:
        """Keys for block b: positions (b - 1) * block ... (b + 2) * block - 1."""
        wide = pad(x, block, padded - length + block).unfold(2, 3 * block, block).transpose(-1, -2)
        return wide.reshape(batch, heads * blocks, 3 * block, dim)

    if mask is None:
        mask = band_mask(length, half_window, q.device, q.dtype).repeat(heads, 1, 1)[None]
    out = F.scaled_dot_product_attention(q_blocks, neighbours(k), neighbours(v), attn_mask=mask)
    return out.reshape(batch, heads, padded, dim)[:, :, :length]


class FastModernBert:
    """Packed (unpadded) inference over the weights of a transformers `ModernBertModel`."""

    def __init__(self, model: Any, *, int8: bool = False) -> None:
        config = model.config
        self.model = model
        self.heads = int(config.num_attention_heads)
        self.head_dim = int(config.hidden_size) // self.heads
        self.half_window = int(config.local_attention) // 2
        self.layer_types: list[str] = list(config.layer_types)
        self.device = next(model.parameters()).device
        self.dtype = next(model.parameters()).dtype
        self.use_flash = (
            flash_attn_varlen_func is not None
            and self.device.type == "cuda"
            and self.dtype in (torch.float16, torch.bfloat16)
        )
        self._rope: dict[str, torch.Tensor] = {}
        self.layers = [self._linears(layer, int8) for layer in model.layers]

    def _linears(self, layer: Any, int8: bool) -> dict[str, Any]:
        linears = {"qkv": self._interleaved_qkv(layer.attn.Wqkv), "attn_out": layer.attn.Wo,
                   "mlp_in": layer.mlp.Wi, "mlp_out": layer.mlp.Wo}
        if int8:  # pick_dtype has checked that this PyTorch build has the int8 kernels
            linears = {name: Int8Linear.from_linear(linear) for name, linear in linears.items()}
        return linears

    def _interleaved_qkv(self, linear: torch.nn.Linear) -> torch.nn.Linear:
        """A copy of Wqkv whose q and k output features are reordered within each head from
        (x_0 .. x_63, y_0 .. y_63) to (x_0, y_0, x_1, y_1, ...).

        Attention only takes dot products of q with k, which a permutation applied to both leaves
        unchanged; in this order RoPE's rotation of each (x_i, y_i) pair is one complex
        multiplication instead of rotate_half's slicing and concatenation."""
        half = self.head_dim // 2
        within_head = torch.stack((torch.arange(half), torch.arange(half) + half), dim=1).flatten()
        heads = torch.arange(2 * self.heads)[:, None] * self.head_dim
        qk_rows = (heads + within_head[None]).flatten()
        rows = torch.cat((qk_rows, torch.arange(2 * self.heads * self.head_dim, linear.out_features)))
        copy = torch.nn.Linear(linear.in_features, linear.out_features, bias=linear.bias is not None,
                               device=linear.weight.device, dtype=linear.weight.dtype)
        with torch.no_grad():
            copy.weight.copy_(linear.weight[rows.to(linear.weight.device)])
            if linear.bias is not None:
                copy.bias.copy_(linear.bias[rows.to(linear.bias.device)])
        return copy

    def _rotary(self, layer_type: str, positions: torch.Tensor, longest: int) -> torch.Tensor:
        """The rotation e^(i * position * frequency) of each packed token, complex float32 as the
        reference computes cos and sin, shaped [tokens, 1, 1, head_dim / 2] for q and k together."""
        table = self._rope.get(layer_type)
        if table is None or table.shape[0] < longest:
            steps = torch.arange(max(longest, 512), device=self.device)
            dummy = torch.empty(0, device=self.device, dtype=torch.float32)
            cos, sin = self.model.rotary_emb(dummy, steps[None], layer_type)
            half = cos.shape[-1] // 2
            table = self._rope[layer_type] = torch.complex(cos[0, :, :half], sin[0, :, :half])
        return table[positions][:, None, None, :]

    @torch.inference_mode()
    def hidden_states(self, ids: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        """Final hidden states [tokens, hidden] for sequences packed back to back, sorted by length."""
        positions = torch.cat([torch.arange(n, device=self.device) for n in lengths])
        groups = attention_groups(lengths)
        longest = max(lengths)
        if self.use_flash:
            cu_seqlens = torch.tensor([0, *itertools.accumulate(lengths)], device=self.device, dtype=torch.int32)
        rotary = {t: self._rotary(t, positions, longest) for t in set(self.layer_types)}
        plans: dict[int | None, list[AttentionPlan]] = {}
        model = self.model
        hidden = model.embeddings.norm(model.embeddings.tok_embeddings(ids))
        tokens = hidden.shape[0]
        for layer, linears, layer_type in zip(model.layers, self.layers, self.layer_types, strict=True):
            qkv = linears["qkv"](layer.attn_norm(hidden)).view(tokens, 3, self.heads, self.head_dim)
            q, k = _apply_rotary(qkv[:, :2], rotary[layer_type]).unbind(1)
            v = qkv[:, 2]
            window = self.half_window if layer_type == "sliding_attention" else None
            if self.use_flash:
                attended = self._flash(q, k, v, cu_seqlens, longest, window)
            else:
                if window not in plans:
                    plans[window] = [self._plan(group, window) for group in groups]
                attended = self._by_groups(q, k, v, plans[window], window)
            hidden = hidden + linears["attn_out"](attended.reshape(tokens, -1))
            gate_in, gate = linears["mlp_in"](layer.mlp_norm(hidden)).chunk(2, dim=-1)
            hidden = hidden + linears["mlp_out"](layer.mlp.act(gate_in) * gate)
        return model.final_norm(hidden)

    def _plan(self, group: Group, window: int | None) -> AttentionPlan:
        """Gather index, output positions and mask for one group, built once per batch."""
        device, width, count = self.device, group.width, len(group.lengths)
        reach = window if window is not None and width > window + 1 else None  # None: no window needed
        if group.uniform and reach is None:
            return AttentionPlan(group)  # every token sees every token of its sequence: no mask at all
        if group.uniform and reach is not None and width > PADDED_ATTENTION_MAX:
            mask = band_mask(width, reach, device, self.dtype).repeat(self.heads, 1, 1)[None]
            return AttentionPlan(group, mask, blocked=True)
        lengths = torch.tensor(group.lengths, device=device)
        slot = torch.arange(width, device=device)
        valid = slot[None, :] < lengths[:, None]  # [count, width]
        starts = torch.cumsum(lengths, 0) - lengths
        index = (group.start + starts[:, None] + slot[None, :]).where(valid, group.start).flatten()
        allowed = valid[:, None, :].expand(count, width, width)
        if reach is not None:
            allowed = allowed & ((slot[:, None] - slot[None, :]).abs() <= reach)
        # a padding row must see some key (else its softmax is NaN); its output is dropped
        allowed = allowed | (~valid[:, :, None] & (slot == 0))
        mask = torch.zeros(count, 1, width, width, device=device, dtype=self.dtype)
        mask.masked_fill_(~allowed[:, None], float("-inf"))
        return AttentionPlan(group, mask, index=index, valid=valid.flatten().nonzero().squeeze(1))

    def _by_groups(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, plans: list[AttentionPlan],
                   window: int | None) -> torch.Tensor:
        out = torch.empty_like(q)
        for plan in plans:
            group = plan.group
            shape = (len(group.lengths), group.width, self.heads, self.head_dim)
            if plan.index is None:  # one length: views of the packed tensors, no copies
                q_, k_, v_ = (x[group.start : group.end].view(shape).transpose(1, 2) for x in (q, k, v))
                if plan.blocked:
                    attended = local_attention(q_, k_, v_, window or 0, plan.mask)
                else:
                    attended = F.scaled_dot_product_attention(q_, k_, v_)
                out[group.start : group.end] = attended.transpose(1, 2).reshape(-1, self.heads, self.head_dim)
            else:
                q_, k_, v_ = (x[plan.index].view(shape).transpose(1, 2) for x in (q, k, v))
                attended = F.scaled_dot_product_attention(q_, k_, v_, attn_mask=plan.mask)
                flat = attended.transpose(1, 2).reshape(-1, self.heads, self.head_dim)
                out[group.start : group.end] = flat[plan.valid]
        return out

    @staticmethod
    def _flash(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cu_seqlens: torch.Tensor, longest: int,
               window: int | None) -> torch.Tensor:
        assert flash_attn_varlen_func is not None
        return flash_attn_varlen_func(
            q, k, v, cu_seqlens, cu_seqlens, longest, longest,
            window_size=(window, window) if window is not None else (-1, -1),
        )


def _apply_rotary(x: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """RoPE on interleaved (x_i, y_i) pairs, in float32 as the reference applies it."""
    pairs = torch.view_as_complex(x.float().unflatten(-1, (-1, 2)))
    return torch.view_as_real(pairs * rotation).flatten(-2).to(x.dtype)
