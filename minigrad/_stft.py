"""The short-time Fourier transform and its inverse (``torch.stft``, ``torch.istft``), built
from differentiable ops: frames cut with ``unfold``, windowed, transformed with
:mod:`minigrad.fft`; the inverse adds the frames back with ``index_add`` and divides by the
summed squared window (overlap-add), so gradients flow through both, to any order.
"""

from __future__ import annotations

from . import dtypes
from ._warnings import warn_user
from .autograd import graph
from .creation import arange, ones, zeros
from .fft import fft, ifft, irfft, rfft
from .ops.complex import view_as_real
from .ops.joining import pad


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None):  # fmt: skip
    """The STFT of a 1-D signal or a (batch, length) batch: a complex tensor of shape
    ``(batch?, frequencies, frames)``, as ``torch.stft``.

    ``hop_length`` defaults to ``n_fft // 4``, ``win_length`` to ``n_fft``, the window to ones
    (centred and zero-padded to ``n_fft``); ``center`` pads ``n_fft // 2`` on both sides with
    ``pad_mode``; ``onesided`` (default for real input) keeps ``n_fft // 2 + 1`` frequencies;
    ``normalized`` scales by ``n_fft ** -0.5``. Real inputs need ``return_complex`` (False
    gives the deprecated ``(..., 2)`` real layout).
    """
    if return_complex is None:
        if not input.is_complex():
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and will "
                "further require that return_complex=True in a future PyTorch release."
            )
        return_complex = True
    if input.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.ndim}D tensor")
    batched = input.ndim == 2
    x = input if batched else input.unsqueeze(0)
    if center:
        half = n_fft // 2
        x = pad(x.unsqueeze(1), (half, half), mode=pad_mode).squeeze(1)
    hop, window = _frame_settings(x, n_fft, hop_length, win_length, window, "stft")
    if not 0 < n_fft <= x.shape[-1]:
        raise RuntimeError(f"stft: expected 0 < n_fft < {x.shape[-1]}, but got n_fft={n_fft}")
    frames = x.unfold(-1, n_fft, hop) * window
    onesided = not input.is_complex() and not window.is_complex() if onesided is None else onesided
    spectrum = rfft(frames) if onesided else fft(frames)
    if normalized:
        spectrum = spectrum * n_fft**-0.5
    spectrum = spectrum.transpose(-1, -2)
    spectrum = spectrum if batched else spectrum.squeeze(0)
    if return_complex:
        return spectrum
    warn_user(
        "stft: return_complex=False is deprecated, as in PyTorch; pass return_complex=True and "
        "call minigrad.view_as_real on the result for the (..., 2) layout",
        UserWarning,
    )
    return view_as_real(spectrum)


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):  # fmt: skip
    """The signal whose :func:`stft` (with the same settings) is ``input``, recovered by
    overlap-add: each frame's inverse transform, windowed, summed at its place and divided by
    the summed squared window, as ``torch.istft``. ``length`` trims or zero-pads the result."""
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions, but got {input.ndim}")
    batched = input.ndim == 3
    spectrum = (input if batched else input.unsqueeze(0)).transpose(-1, -2)  # (B, frames, freq)
    hop, window = _frame_settings(spectrum, n_fft, hop_length, win_length, window, "istft")
    onesided = spectrum.shape[-1] != n_fft if onesided is None else onesided
    if normalized:
        spectrum = spectrum * n_fft**0.5
    if onesided:
        frames = irfft(spectrum, n=n_fft)
    else:
        frames = ifft(spectrum, n=n_fft)
        frames = frames if return_complex else frames.real
    frames = frames * window
    count = frames.shape[-2]
    total = n_fft + hop * (count - 1)
    places = arange(count, device=frames.device)[:, None] * hop + arange(
        n_fft, device=frames.device
    )
    places = places.reshape(-1)
    signal = zeros(frames.shape[0], total, dtype=frames.dtype, device=frames.device)
    signal = signal.index_add(1, places, frames.reshape(frames.shape[0], -1))
    envelope = zeros(total, dtype=window.dtype, device=frames.device)
    envelope = envelope.index_add(
        0, places, (window * window.conj()).real.expand(count, n_fft).reshape(-1)
    )
    start = n_fft // 2 if center else 0
    end = total - (n_fft // 2 if center else 0) if length is None else start + length
    end = min(end, total)
    if (envelope[start:end].abs() < 1e-11).any():
        raise RuntimeError(
            "istft: window overlap add min: the summed squared window is (nearly) zero somewhere; "
            "choose a window and hop_length that overlap everywhere (NOLA)"
        )
    signal = signal[:, start:end] / envelope[start:end]
    if length is not None and signal.shape[-1] < length:
        signal = pad(signal, (0, length - signal.shape[-1]))
    return signal if batched else signal.squeeze(0)


def _frame_settings(x, n_fft, hop_length, win_length, window, op: str) -> tuple:
    """The hop and the window padded to ``n_fft`` (centred), checked as PyTorch checks them."""
    hop = n_fft // 4 if hop_length is None else hop_length
    if hop <= 0:
        raise RuntimeError(f"{op}: expected hop_length > 0, but got hop_length={hop}")
    win_length = n_fft if win_length is None else win_length
    if not 0 < win_length <= n_fft:
        raise RuntimeError(
            f"{op}: expected 0 < win_length <= n_fft, but got win_length={win_length}"
        )
    if window is None:
        if op == "stft":
            warn_user(
                "stft: no window was given, so a rectangular one is used, which leaks spectral "
                "energy between frequencies; minigrad.hann_window or hamming_window leak less "
                "(pass window=minigrad.ones(n_fft) to keep the rectangle without this warning)",
                UserWarning,
            )
        real = dtypes.to_real(x.dtype) if x.dtype.is_complex else x.dtype
        window = ones(win_length, dtype=real, device=x.device)
    elif not isinstance(window, graph.Tensor) or window.ndim != 1 or window.shape[0] != win_length:
        size = list(window.shape) if isinstance(window, graph.Tensor) else window
        raise RuntimeError(
            f"{op}: expected a 1D window tensor of size equal to win_length={win_length}, but "
            f"got window with size {size}"
        )
    left = (n_fft - win_length) // 2
    if left or win_length != n_fft:
        window = pad(window, (left, n_fft - win_length - left))
    return hop, window
