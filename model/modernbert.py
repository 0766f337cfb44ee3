"""The fast ModernBERT forward pass: packed sequences, no padding, windowed local attention.

transformers' `ModernBertModel` pads a batch to its longest sequence and applies the local
layers' 128-token window as a dense mask, so on CPU (and on GPU without flash-attn) it spends
most of its time on padding and on attention scores it then throws away. This module runs the
same weights differently:

- the sequences of a batch are packed into one `[tokens, hidden]` tensor, so every linear layer
  (most of the compute) sees only real tokens;
- attention runs per run of equal-length sequences (they are adjacent, the batch is sorted), so
  it needs no mask at all; a local layer needs its window only where a sequence is longer than
  the window, and then attends block by block to the neighbouring blocks instead of the whole
  sequence;
- with flash-attn installed on CUDA, attention is one variable-length kernel call per layer
  with the sliding window built in.

It reads the weights of a loaded `ModernBertModel` and returns its `last_hidden_state` per
token; `tests/test_fast_path.py` holds it to the reference within the stated tolerances.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from codesearch.model.int8 import Int8Linear, int8_supported

try:  # users with GPUs install flash-attn; everyone else takes the exact SDPA path
    from flash_attn import flash_attn_varlen_func
except ImportError:  # pragma: no cover - depends on the machine
    flash_attn_varlen_func = None


@dataclass(frozen=True, slots=True)
class Run:
    """`count` sequences of `length` tokens, starting at token `start` of the packed batch."""

    start: int
    count: int
    length: int


def runs_of_equal_length(lengths: list[int]) -> list[Run]:
    """Group adjacent sequences of the same length (the caller sorts them by length)."""
    runs: list[Run] = []
    start = 0
    for length in lengths:
        if runs and runs[-1].length == length and runs[-1].start + runs[-1].count * length == start:
            last = runs[-1]
            runs[-1] = Run(last.start, last.count + 1, length)
        else:
            runs.append(Run(start, 1, length))
        start += length
    return runs


def local_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, half_window: int) -> torch.Tensor:
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

    q_blocks = pad(q, 0, padded - length).view(batch, heads, blocks, block, dim)
    # keys for block b: positions (b - 1) * block ... (b + 2) * block - 1
    k_wide = pad(k, block, padded - length + block).unfold(2, 3 * block, block).transpose(-1, -2)
    v_wide = pad(v, block, padded - length + block).unfold(2, 3 * block, block).transpose(-1, -2)
    query_pos = torch.arange(padded, device=q.device).view(blocks, block, 1)
    key_pos = (torch.arange(blocks, device=q.device).view(blocks, 1, 1) - 1) * block + torch.arange(
        3 * block, device=q.device
    ).view(1, 1, 3 * block)
    allowed = ((query_pos - key_pos).abs() <= half_window) & (key_pos >= 0) & (key_pos < length)
    out = F.scaled_dot_product_attention(q_blocks, k_wide, v_wide, attn_mask=allowed)
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
        self._rope: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.layers = [self._linears(layer, int8) for layer in model.layers]

    @staticmethod
    def _linears(layer: Any, int8: bool) -> dict[str, Any]:
        linears = {"qkv": layer.attn.Wqkv, "attn_out": layer.attn.Wo, "mlp_in": layer.mlp.Wi, "mlp_out": layer.mlp.Wo}
        if int8:
            if not int8_supported():
                raise RuntimeError("int8 needs an x86 processor with oneDNN; use --dtype bfloat16 or float32")
            linears = {name: Int8Linear.from_linear(linear) for name, linear in linears.items()}
        return linears

    def _rotary(self, layer_type: str, positions: torch.Tensor, longest: int) -> tuple[torch.Tensor, torch.Tensor]:
        """cos and sin for each packed token, computed in float32 as the reference does."""
        cached = self._rope.get(layer_type)
        if cached is None or cached[0].shape[0] < longest:
            table = torch.arange(max(longest, 512), device=self.device)
            dummy = torch.empty(0, device=self.device, dtype=torch.float32)
            cos, sin = self.model.rotary_emb(dummy, table[None], layer_type)
            cached = self._rope[layer_type] = (cos[0], sin[0])
        return cached[0][positions][:, None, :], cached[1][positions][:, None, :]

    @torch.inference_mode()
    def hidden_states(self, ids: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        """Final hidden states [tokens, hidden] for sequences packed back to back, sorted by length."""
        positions = torch.cat([torch.arange(n, device=self.device) for n in lengths])
        runs = runs_of_equal_length(lengths)
        cu_seqlens = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()], device=self.device,
                                  dtype=torch.int32)
        rotary = {t: self._rotary(t, positions, max(lengths)) for t in set(self.layer_types)}
        model = self.model
        hidden = model.embeddings.norm(model.embeddings.tok_embeddings(ids))
        tokens = hidden.shape[0]
        for layer, linears, layer_type in zip(model.layers, self.layers, self.layer_types, strict=True):
            qkv = linears["qkv"](layer.attn_norm(hidden)).view(tokens, 3, self.heads, self.head_dim)
            q, k, v = qkv.unbind(1)
            cos, sin = rotary[layer_type]
            q, k = _apply_rotary(q, cos, sin), _apply_rotary(k, cos, sin)
            window = self.half_window if layer_type == "sliding_attention" else None
            if self.use_flash:
                attended = self._flash(q, k, v, cu_seqlens, max(lengths), window)
            else:
                attended = self._by_runs(q, k, v, runs, window)
            hidden = hidden + linears["attn_out"](attended.reshape(tokens, -1))
            gate_in, gate = linears["mlp_in"](layer.mlp_norm(hidden)).chunk(2, dim=-1)
            hidden = hidden + linears["mlp_out"](layer.mlp.act(gate_in) * gate)
        return model.final_norm(hidden)

    def _by_runs(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, runs: list[Run],
                 window: int | None) -> torch.Tensor:
        out = torch.empty_like(q)
        for run in runs:
            span = slice(run.start, run.start + run.count * run.length)

            def heads_first(x: torch.Tensor, run: Run = run, span: slice = span) -> torch.Tensor:
                return x[span].view(run.count, run.length, self.heads, self.head_dim).transpose(1, 2)

            if window is not None and run.length > window + 1:
                attended = local_attention(heads_first(q), heads_first(k), heads_first(v), window)
            else:  # every token is within the window of every other: plain attention, no mask
                attended = F.scaled_dot_product_attention(heads_first(q), heads_first(k), heads_first(v))
            out[span] = attended.transpose(1, 2).reshape(-1, self.heads, self.head_dim)
        return out

    @staticmethod
    def _flash(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cu_seqlens: torch.Tensor, longest: int,
               window: int | None) -> torch.Tensor:
        assert flash_attn_varlen_func is not None
        return flash_attn_varlen_func(
            q, k, v, cu_seqlens, cu_seqlens, longest, longest,
            window_size=(window, window) if window is not None else (-1, -1),
        )


def _apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    wide = x.float()
    rotated = torch.cat((-wide[..., half:], wide[..., :half]), dim=-1)
    return (wide * cos + rotated * sin).to(x.dtype)
