"""int8 linear layers on x86 CPUs through oneDNN (AMX or VNNI int8 kernels).

Weights are quantised once, symmetric per output channel; activations are quantised per call,
per tensor, from their observed range (dynamic quantisation). The output comes back in the
activation's own dtype (bfloat16 on the fast path), so only the matrix multiplications run in
int8 and everything between them (norms, attention, GeGLU) keeps its precision.

`torch.ao.quantization.quantize_dynamic` does the same job through fbgemm, but on a processor
with AMX it is slower than a bfloat16 linear for batches of real size; oneDNN's
`qlinear_pointwise` is what PyTorch's own x86 int8 compiler path calls.

Without VNNI or AMX (plain AVX2, e.g. many AMD EPYC), oneDNN multiplies uint8 by int8 with
`vpmaddubsw`, which adds pairs of products into int16 and saturates: 2 x 255 x 127 overflows.
There activations are quantised to 7 bits (0..127, PyTorch's `reduce_range`), whose pairs fit;
without it the vectors come out wrong (cosine 0.84 to the float model, measured).
"""

from __future__ import annotations

import warnings

import torch

# PyTorch marks its quantised tensor types as deprecated; we only use them for one call to reach
# oneDNN's kernel, and will move when qlinear_pointwise takes plain uint8 tensors with scales.
warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)


def _has_int8_dot_product() -> bool:
    """Whether the processor multiplies int8 with a 32-bit accumulator (VNNI or AMX)."""
    checks = ("_is_vnni_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


REDUCE_RANGE = not _has_int8_dot_product()


def int8_supported() -> bool:
    """Whether this PyTorch build has oneDNN's quantised linear (x86 builds do)."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.onednn, "qlinear_pointwise")


class Int8Linear(torch.nn.Module):
    """A bias-free or biased linear layer with int8 weights, called like `nn.Linear`."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        weight = weight.detach().float()
        scale = weight.abs().amax(dim=1).clamp(min=1e-12) / 127.0
        quantised = torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8)
        self.out_features = weight.shape[0]
        self.packed = torch.ops.onednn.qlinear_prepack(quantised, None)
        self.scale = scale
        self.zero_point = torch.zeros(weight.shape[0], dtype=torch.int64)
        self.bias = None if bias is None else bias.detach().float()

    @classmethod
    def from_linear(cls, linear: torch.nn.Linear) -> Int8Linear:
        return cls(linear.weight, linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        flat = x.reshape(-1, shape[-1])
        quantised = torch.quantize_per_tensor_dynamic(flat.float(), torch.quint8, REDUCE_RANGE)
        bias = None if self.bias is None else self.bias.to(x.dtype)
        out = torch.ops.onednn.qlinear_pointwise(
            quantised.int_repr(), quantised.q_scale(), quantised.q_zero_point(), self.packed, self.scale,
            self.zero_point, bias, 1.0, 0, x.dtype, "none", [], "",
        )
        return out.reshape(*shape[:-1], self.out_features)
