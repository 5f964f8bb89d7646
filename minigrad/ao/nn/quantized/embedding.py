"""Quantized embedding tables, as ``torch.ao.nn.quantized.Embedding``/``EmbeddingBag``:
weights quint8 (or 4-bit quint4x2) per row with float scale and zero point
(``per_channel_affine_float_qparams``, from ``float_qparams_weight_only_qconfig``), integer
indices in, float32 rows out.

Numerics are FBGEMM's: each row is stored as its integers with a float32 ``scale`` and
``bias = -zero_point · scale`` (both rounded to float16 for 4-bit rows); a looked-up value is
``fma(scale, q, bias)``, and a bag accumulates ``out = fma(w·scale, q, out + w·bias)`` entry by
entry in float32 (``w`` the per-sample weight, else 1). As PyTorch's quantized EmbeddingBag,
bags are always summed (its kernel is called with the sum mode whatever ``mode`` says) and
``padding_idx`` is not used.
"""

from __future__ import annotations

import numpy as np

from .... import _quantized, dtypes
from ....creation import tensor, zeros
from ....nn.functional.embedding_bag import _flatten_bags
from ....nn.modules.module import Module
from ....tensor import Tensor
from .modules import _quantize_weight

_FLOAT_QPARAMS = _quantized.per_channel_affine_float_qparams
_WEIGHT_DTYPES = (dtypes.quint8, dtypes.quint4x2)


def _check_weight_dtype(dtype, name: str):
    if dtype not in _WEIGHT_DTYPES:
        raise NotImplementedError(
            f"The only supported dtypes for nnq.{name} is torch.quint8 and torch.quint4x2 (got "
            f"{dtype})"
        )
    return dtype


def _row_params(weight):
    """Per row: the integers (float64), ``scale`` and ``bias`` as FBGEMM's packed table holds
    them (float32; float16-rounded for 4-bit rows)."""
    record = weight._data
    scale = np.asarray(record.scale, dtype=np.float32)
    bias = (np.asarray(record.zero_point, dtype=np.float32) * scale * np.float32(-1)).astype(
        np.float32
    )
    if record.qdtype is dtypes.quint4x2:
        scale = scale.astype(np.float16).astype(np.float32)
        bias = bias.astype(np.float16).astype(np.float32)
    return record.int_repr.astype(np.float64), scale, bias


def _fma(a, b, c):
    """``a·b + c`` rounded once to float32 (the products of float32 and 8-bit values are
    exact in float64)."""
    return (np.asarray(a, np.float64) * b + np.asarray(c, np.float64)).astype(np.float32)


def _indices(indices, op: str):
    if indices.dtype.is_floating_point or indices.dtype is dtypes.bool:
        raise RuntimeError(f"{op}: indices must be int64 or int32, got {indices.dtype}")
    return indices.device.backend.to_host(indices._data).astype(np.int64)


def _check_range(flat, rows: int, op: str) -> None:
    if flat.size and (flat.min() < 0 or flat.max() >= rows):
        raise IndexError(f"{op}: index out of range [0, {rows}) in the indices")


class _EmbeddingBase(Module):
    """A quantized table ``_weight`` (rows quint8/quint4x2, float qparams) and its repr."""

    def __init__(self, num_embeddings, embedding_dim, dtype):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.dtype = _check_weight_dtype(dtype, type(self).__name__)
        ones = zeros(num_embeddings) + 1.0
        table = zeros(num_embeddings, embedding_dim)
        self.set_weight(_quantized.quantize_per_channel(table, ones, zeros(num_embeddings), 0,
                                                        dtype))  # fmt: skip

    def set_weight(self, w) -> None:
        """Set the quantized table (per-row float qparams, quint8 or quint4x2)."""
        record = getattr(w, "_data", None)
        if type(record) is not _quantized.QuantizedArray or record.scheme is not _FLOAT_QPARAMS:
            raise NotImplementedError(
                f"{type(self).__name__}: the weight must be quantized per row with float "
                "qparams (per_channel_affine_float_qparams)"
            )
        self._weight = w

    def weight(self):
        return self._weight

    _KEYS = ("weight.int_repr", "weight.scale", "weight.zero_point")

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """The table as plain tensors: its integers and per-row float scales and zero points
        (PyTorch saves its packed object instead, so the keys are minigrad's)."""
        super()._save_to_state_dict(destination, prefix, keep_vars)
        record = self._weight._data
        values = (self._weight.int_repr(), tensor(record.scale), tensor(record.zero_point))
        for key, value in zip(self._KEYS, values):
            destination[prefix + key] = value

    def _load_from_state_dict(self, state_dict, prefix, missing, used, errors, assign):
        super()._load_from_state_dict(state_dict, prefix, missing, used, errors, assign)
        absent = [prefix + k for k in self._KEYS if prefix + k not in state_dict]
        if absent:
            missing.extend(absent)
            return
        used.update(prefix + k for k in self._KEYS)
        ints, scale, zero_point = (state_dict[prefix + k] for k in self._KEYS)
        if tuple(ints.shape) != tuple(self._weight.shape):
            errors.append(
                f"size mismatch for {prefix}weight: copying a table of shape {list(ints.shape)}, "
                f"the shape in current model is {list(self._weight.shape)}."
            )
            return
        record = _quantized.QuantizedArray(
            ints.numpy().astype(np.uint8), self.dtype, _FLOAT_QPARAMS,
            scale.numpy().astype(np.float32), zero_point.numpy().astype(np.float32), 0,
        )  # fmt: skip
        self._weight = Tensor._make(record, ints.device)

    def _get_name(self) -> str:
        return "Quantized" + type(self).__name__

    def extra_repr(self) -> str:
        return (
            f"num_embeddings={self.num_embeddings}, embedding_dim={self.embedding_dim}, "
            f"dtype={self._weight.dtype}, qscheme={self._weight.qscheme()}"
        )

    @classmethod
    def _quantized_table(cls, mod, float_type):
        """The float module's table quantized with its qconfig's weight observer."""
        name = cls.__name__
        if type(mod) is not float_type:
            raise AssertionError(
                f"nnq.{name}.from_float only works for nn.{float_type.__name__}, got "
                f"{type(mod).__name__}"
            )
        if getattr(mod, "qconfig", None) is None:
            raise AssertionError("Embedding input float module must have qconfig defined")
        observer = mod.qconfig.weight()
        if observer.qscheme is not _FLOAT_QPARAMS:
            raise AssertionError(
                f"{name} quantization is only supported with float_qparams_weight_only_qconfig."
            )
        _check_weight_dtype(observer.dtype, name)
        observer(mod.weight.detach())
        return _quantize_weight(mod.weight.detach().float(), observer), observer.dtype


class Embedding(_EmbeddingBase):
    """A quantized lookup table: ``forward(indices)`` → float32 rows (indices.shape + (dim,)).

    Example:
        >>> model.emb.qconfig = float_qparams_weight_only_qconfig
        >>> quantized = convert(prepare(model))
    """

    def __init__(
        self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
        scale_grad_by_freq=False, sparse=False, _weight=None, dtype=dtypes.quint8,
    ):  # fmt: skip
        super().__init__(num_embeddings, embedding_dim, dtype)
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse

    def forward(self, indices):
        if self.dtype is dtypes.quint4x2:
            raise NotImplementedError(
                "quantized Embedding with quint4x2 weights: PyTorch's lookup kernel has no "
                "4-bit form either (use EmbeddingBag)"
            )
        flat = _indices(indices, "quantized.embedding").reshape(-1)
        _check_range(flat, self.num_embeddings, "quantized.embedding")
        q, scale, bias = _row_params(self._weight)
        rows = _fma(scale[flat, None], q[flat], bias[flat, None])
        out = rows.reshape((*indices.shape, self.embedding_dim))
        return Tensor._make(out, indices.device)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized table of a float ``nn.Embedding`` with a float-qparams qconfig."""
        from .... import nn

        qweight, dtype = cls._quantized_table(mod, nn.Embedding)
        new = cls(mod.num_embeddings, mod.embedding_dim, dtype=dtype)
        new.set_weight(qweight)
        return new


class EmbeddingBag(_EmbeddingBase):
    """A quantized bag table: ``forward(indices, offsets=None, per_sample_weights=None)`` →
    (bags, dim) float32 sums of rows (see the module notes on ``mode``)."""

    def __init__(
        self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
        scale_grad_by_freq=False, mode="sum", sparse=False, _weight=None,
        include_last_offset=False, dtype=dtypes.quint8,
    ):  # fmt: skip
        super().__init__(num_embeddings, embedding_dim, dtype)
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, (
            scale_grad_by_freq
        )  # fmt: skip
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset

    def forward(self, indices, offsets=None, per_sample_weights=None,
                compressed_indices_mapping=None):  # fmt: skip
        op = "quantized.embedding_bag"
        if compressed_indices_mapping is not None:
            raise NotImplementedError(f"{op}: pruned tables (compressed_indices_mapping)")
        flat_t, starts = _flatten_bags(indices, offsets, self.include_last_offset)
        flat = _indices(flat_t, op)
        _check_range(flat, self.num_embeddings, op)
        weights = None
        if per_sample_weights is not None:
            weights = per_sample_weights.detach().float()._data.reshape(-1)
        q, scale, bias = _row_params(self._weight)
        ends = list(starts[1:]) + [flat.size]
        if self.include_last_offset and offsets is not None:
            ends = list(_indices(offsets, op)[1:])
        out = np.zeros((len(starts), self.embedding_dim), dtype=np.float32)
        for bag, (start, end) in enumerate(zip(starts, ends)):
            acc = out[bag]
            for j in range(int(start), int(end)):
                row = flat[j]
                s, b = scale[row], bias[row]
                if weights is not None:
                    s, b = np.float32(s * weights[j]), np.float32(b * weights[j])
                acc = _fma(s, q[row], (acc + b).astype(np.float32))
            out[bag] = acc
        return Tensor._make(out, indices.device)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized table of a float ``nn.EmbeddingBag`` with a float-qparams qconfig."""
        from .... import nn

        qweight, dtype = cls._quantized_table(mod, nn.EmbeddingBag)
        new = cls(
            mod.num_embeddings, mod.embedding_dim, mod.max_norm, mod.norm_type,
            mod.scale_grad_by_freq, mod.mode, mod.sparse, None, mod.include_last_offset, dtype,
        )  # fmt: skip
        new.set_weight(qweight)
        return new


__all__ = ["Embedding", "EmbeddingBag"]
