"""The histogram observer, as ``torch.ao.quantization.observer.HistogramObserver``: qparams
for the range that minimizes the L2 quantization error of the observed histogram."""

from __future__ import annotations

import math

from ... import _quantized, dtypes
from ..._warnings import warn_user
from ...autograd.grad_mode import no_grad
from ...creation import arange, linspace, ones, tensor, zeros
from ...ops import floor_divide, maximum, minimum
from ...ops.search import bincount, bucketize
from ...ops.statistics import aminmax, histc
from .observer import _EPS, _PER_TENSOR, UniformQuantizationObserverBase


class HistogramObserver(UniformQuantizationObserverBase):
    """Keeps a histogram of what it sees (``bins`` bins over the running range) and picks the
    range that minimizes the L2 quantization error of that histogram (PyTorch's search, which
    trims outliers), then qparams as :class:`MinMaxObserver` would for that range."""

    def __init__(
        self, bins: int = 2048, dtype=dtypes.quint8, qscheme=_quantized.per_tensor_affine,
        reduce_range=False, quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS,
        is_dynamic=False, **kwargs,
    ):  # fmt: skip
        if qscheme not in _PER_TENSOR:
            raise NotImplementedError(
                "HistogramObserver's qscheme only support minigrad.per_tensor_symmetric and "
                "minigrad.per_tensor_affine."
            )
        if is_dynamic:
            raise NotImplementedError("HistogramObserver doesn't support dynamic quantization")
        super().__init__(
            dtype, qscheme, reduce_range, quant_min, quant_max, factory_kwargs, eps, is_dynamic,
            **kwargs,
        )  # fmt: skip
        self.bins = bins
        self.register_buffer("histogram", zeros(bins))
        self.register_buffer("min_val", tensor(float("inf")))
        self.register_buffer("max_val", tensor(float("-inf")))
        self.dst_nbins = 2 ** (8 * dtype.itemsize)
        self.upsample_rate = 16  # finer bins when an old histogram is mapped onto a new range

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        with no_grad():
            self._observe(x_orig.detach())
        return x_orig

    def _observe(self, x):
        low, high = aminmax(x)
        if math.isinf(low.item()) or math.isinf(high.item()):
            warn_user("inf detected in input tensor, ignoring input")
            x = x[x.abs() != float("inf")]
            if x.numel() == 0:
                return
            low, high = aminmax(x)
        if math.isinf(self.min_val.item()) or math.isinf(self.max_val.item()):
            self.min_val, self.max_val = low, high
            self.histogram = histc(x, self.bins, min=low.item(), max=high.item())
            return
        new_min, new_max = minimum(self.min_val, low), maximum(self.max_val, high)
        update = histc(x, self.bins, min=new_min.item(), max=new_max.item())
        if new_min.item() == self.min_val.item() and new_max.item() == self.max_val.item():
            self.histogram = self.histogram + update
            return
        self.histogram = self._combined(update, new_min, new_max)
        self.min_val, self.max_val = new_min, new_max

    def _combined(self, update, new_min, new_max):
        """The old histogram mapped onto ``[new_min, new_max]``, plus ``update``."""
        old_min, old_max = self.min_val, self.max_val
        if old_min.item() == old_max.item():
            lone = histc(old_min.reshape(1), self.bins, min=new_min.item(), max=new_max.item())
            return lone * self.histogram.sum() + update
        rate = self.upsample_rate
        fine = self.histogram.repeat_interleave(rate) / rate
        width = (old_max - old_min) / (self.bins * rate)
        device = self.histogram.device
        mids = linspace(old_min.item(), old_max.item(), self.bins * rate + 1, device=device)
        mids = mids[:-1] + 0.5 * width
        edges = linspace(new_min.item(), new_max.item(), self.bins + 1, device=device)
        buckets = (bucketize(mids, edges, right=True) - 1).clamp(0, self.bins - 1)
        return update + bincount(buckets, weights=fine, minlength=self.bins)

    def _quantization_error(self, start: int, end: int) -> float:
        """The L2 error of quantizing the histogram onto ``dst_nbins`` levels spanning bins
        ``start..end`` (values taken uniform within each bin)."""
        width = (self.max_val.item() - self.min_val.item()) / self.bins
        dst_width = width * (end - start + 1) / self.dst_nbins
        if dst_width == 0.0:
            return 0.0
        device = self.histogram.device
        src_begin = (arange(self.bins, device=device) - start) * width
        src_end = src_begin + width
        top = self.dst_nbins - 1
        dst_of_begin = floor_divide(src_begin, dst_width).clamp(0, top)
        dst_of_end = floor_divide(src_end, dst_width).clamp(0, top)
        density = self.histogram / width
        half = ones(self.bins, device=device) * (dst_width / 2)
        norm = _l2(src_begin - (dst_of_begin + 0.5) * dst_width, half, density)
        full = _l2(
            tensor(-dst_width / 2, device=device), tensor(dst_width / 2, device=device), density
        )
        norm = norm + (dst_of_end - dst_of_begin - 1) * full
        end_center = dst_of_end * dst_width + dst_width / 2
        norm = norm + _l2(tensor(-dst_width / 2, device=device), src_end - end_center, density)
        return norm.sum().item()

    def _non_linear_param_search(self):
        """The range (from bin edges) whose quantization error is least, found by trimming the
        histogram's tails step by step while the error falls."""
        if self.histogram.shape[0] != self.bins:
            raise AssertionError("bins mismatch")
        width = (self.max_val - self.min_val) / self.bins
        total = self.histogram.sum().item()
        csum = self.histogram.cumsum(0).tolist()
        step, alpha, beta = 1e-5, 0.0, 1.0
        start, end, norm_min = 0, self.bins - 1, float("inf")
        while alpha < beta:
            next_alpha, next_beta = alpha + step, beta - step
            left, right = start, end
            while left < end and csum[left] < next_alpha * total:
                left += 1
            while right > start and csum[right] > next_beta * total:
                right -= 1
            next_start, next_end = start, end
            if left - start > end - right:
                next_start, alpha = left, next_alpha
            else:
                next_end, beta = right, next_beta
            if next_start == start and next_end == end:
                continue
            norm = self._quantization_error(next_start, next_end)
            if norm > norm_min:
                break
            norm_min, start, end = norm, next_start, next_end
        return self.min_val + width * start, self.min_val + width * (end + 1)

    def calculate_qparams(self):
        """``(scale, zero_point)`` for the range the histogram search picks."""
        if math.isinf(self.min_val.item()) and math.isinf(self.max_val.item()):
            warn_user(
                "must run observer before calling calculate_qparams. Returning default scale "
                "and zero point "
            )
            return tensor([1.0]), tensor([0])
        if self.bins != len(self.histogram):
            raise AssertionError(
                "The number of bins in histogram should be equal to the number of bins supplied "
                "while making this observer"
            )
        return self._calculate_qparams(*self._non_linear_param_search())

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


def _l2(begin, end, density):
    """``density · (end³ - begin³) / 3``: the integral of x² over [begin, end], weighted."""
    return density * ((end * end * end - begin * begin * begin) / 3)
