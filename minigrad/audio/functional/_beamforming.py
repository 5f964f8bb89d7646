"""torchaudio.functional's multi-channel beamforming: power spectral density matrices
(``psd``), MVDR weights from speech and noise PSDs (``mvdr_weights_souden``) or from a
relative transfer function (``mvdr_weights_rtf``), RTF estimates (``rtf_evd``, ``rtf_power``)
and ``apply_beamforming``. Complex tensors throughout; differentiable as their ops are."""

from __future__ import annotations

import minigrad as torch
from minigrad.tensor import Tensor


def psd(specgram, mask=None, normalize=True, eps=1e-10):
    """``(..., freq, channel, channel)`` PSD matrices of ``specgram (..., channel, freq,
    time)``, each frame weighted by ``mask (..., freq, time)`` (normalized over time)."""
    specgram = specgram.transpose(-3, -2)  # (..., freq, channel, time)
    outer = torch.einsum("...ct,...et->...tce", specgram, specgram.conj())
    if mask is not None:
        if mask.shape[:-1] != specgram.shape[:-2] or mask.shape[-1] != specgram.shape[-1]:
            raise ValueError(
                "The dimensions of mask except the channel dimension should be the same as specgram."
                f"Found {mask.shape} for mask and {specgram.shape} for specgram."
            )
        if normalize:
            mask = mask / (mask.sum(dim=-1, keepdim=True) + eps)
        outer = outer * mask[..., None, None]
    return outer.sum(dim=-3)


def _compute_mat_trace(x, dim1=-1, dim2=-2):
    if x.ndim < 2:
        raise ValueError("The dimension of the tensor must be at least 2.")
    if x.shape[dim1] != x.shape[dim2]:
        raise ValueError("The size of ``dim1`` and ``dim2`` must be the same.")
    return torch.diagonal(x, 0, dim1=dim1, dim2=dim2).sum(dim=-1)


def _tik_reg(mat, reg=1e-7, eps=1e-8):
    """Tikhonov regularization: ``mat + (reg * trace(mat).real + eps) * I``."""
    eye = torch.eye(mat.size(-1), dtype=mat.dtype, device=mat.device)
    epsilon = _compute_mat_trace(mat).real[..., None, None] * reg + eps
    return mat + epsilon * eye


def _assert_psd_matrices(psd_s, psd_n):
    if psd_s.ndim < 3 or psd_n.ndim < 3:
        raise ValueError(
            "Expected at least 3D Tensor (..., freq, channel, channel) for psd_s and psd_n. "
            f"Found {psd_s.shape} for psd_s and {psd_n.shape} for psd_n."
        )
    if not (psd_s.is_complex() and psd_n.is_complex()):
        raise TypeError(
            "The type of psd_s and psd_n must be ``torch.cfloat`` or ``torch.cdouble``. "
            f"Found {psd_s.dtype} for psd_s and {psd_n.dtype} for psd_n."
        )
    if psd_s.shape != psd_n.shape:
        raise ValueError(
            "The dimensions of psd_s and psd_n should be the same. "
            f"Found {psd_s.shape} and {psd_n.shape}."
        )
    if psd_s.shape[-1] != psd_s.shape[-2]:
        raise ValueError(
            f"The last two dimensions of psd_s should be the same. Found {psd_s.shape}."
        )


def _reference(matrix, reference_channel, dtype, vector_dims):
    """``matrix[..., reference_channel]`` for an int, or its weighting by a one-hot/soft
    reference vector for a tensor (torchaudio's two forms)."""
    if isinstance(reference_channel, int):
        return matrix[..., reference_channel]
    if isinstance(reference_channel, Tensor):
        ref = reference_channel.to(dtype)[(...,) + (None,) * vector_dims + (slice(None),)]
        return torch.einsum("...c,...c->...", matrix, ref)
    raise TypeError(
        f'Expected "int" or "Tensor" for reference_channel. Found: {type(reference_channel)}.'
    )


def mvdr_weights_souden(psd_s, psd_n, reference_channel, diagonal_loading=True, diag_eps=1e-7,
                        eps=1e-8):  # fmt: skip
    """Souden's MVDR weights ``(..., freq, channel)``: ``(psd_n^-1 psd_s / tr(.)) u``."""
    _assert_psd_matrices(psd_s, psd_n)
    if diagonal_loading:
        psd_n = _tik_reg(psd_n, reg=diag_eps)
    numerator = torch.linalg.solve(psd_n, psd_s)
    ws = numerator / (_compute_mat_trace(numerator)[..., None, None] + eps)
    return _reference(ws, reference_channel, psd_n.dtype, 2)


def mvdr_weights_rtf(rtf, psd_n, reference_channel=None, diagonal_loading=True, diag_eps=1e-7,
                     eps=1e-8):  # fmt: skip
    """MVDR weights ``(..., freq, channel)`` from the RTF ``(..., freq, channel)``:
    ``psd_n^-1 rtf / (rtf^H psd_n^-1 rtf)``, scaled to the reference channel if given."""
    if rtf.ndim < 2:
        raise ValueError(
            f"Expected at least 2D Tensor (..., freq, channel) for rtf. Found {rtf.shape}."
        )
    if psd_n.ndim < 3:
        raise ValueError(
            f"Expected at least 3D Tensor (..., freq, channel, channel) for psd_n. Found {psd_n.shape}."
        )
    if not (rtf.is_complex() and psd_n.is_complex()):
        raise TypeError(
            "The type of rtf and psd_n must be ``torch.cfloat`` or ``torch.cdouble``. "
            f"Found {rtf.dtype} for rtf and {psd_n.dtype} for psd_n."
        )
    if rtf.shape != psd_n.shape[:-1]:
        raise ValueError(
            "The dimensions of rtf and the dimensions withou the last dimension of psd_n should be "
            f"the same. Found {rtf.shape} for rtf and {psd_n.shape} for psd_n."
        )
    if psd_n.shape[-1] != psd_n.shape[-2]:
        raise ValueError(
            f"The last two dimensions of psd_n should be the same. Found {psd_n.shape}."
        )
    if diagonal_loading:
        psd_n = _tik_reg(psd_n, reg=diag_eps)
    numerator = torch.linalg.solve(psd_n, rtf.unsqueeze(-1)).squeeze(-1)
    denominator = torch.einsum("...d,...d->...", rtf.conj(), numerator)
    weights = numerator / (denominator.real.unsqueeze(-1) + eps)
    if reference_channel is not None:
        weights = weights * _reference(rtf.conj(), reference_channel, psd_n.dtype, 1)[..., None]
    return weights


def rtf_evd(psd_s):
    """The RTF as the principal eigenvector of ``psd_s`` (``torch.linalg.eigh``; an
    eigenvector's phase is arbitrary, as LAPACK returns it)."""
    if not psd_s.is_complex():
        raise TypeError(
            f"The type of psd_s must be ``torch.cfloat`` or ``torch.cdouble``. Found {psd_s.dtype}."
        )
    if psd_s.shape[-1] != psd_s.shape[-2]:
        raise ValueError(
            f"The last two dimensions of psd_s should be the same. Found {psd_s.shape}."
        )
    return torch.linalg.eigh(psd_s)[1][..., -1]


def rtf_power(psd_s, psd_n, reference_channel, n_iter=3, diagonal_loading=True, diag_eps=1e-7):
    """The RTF by ``n_iter`` power iterations of ``psd_n^-1 psd_s`` from the reference channel."""
    _assert_psd_matrices(psd_s, psd_n)
    if n_iter <= 0:
        raise ValueError("The number of iteration must be greater than 0.")
    if diagonal_loading:
        psd_n = _tik_reg(psd_n, reg=diag_eps)
    phi = torch.linalg.solve(psd_n, psd_s)
    rtf = _reference(phi, reference_channel, psd_n.dtype, 2).unsqueeze(-1)
    if n_iter >= 2:
        for _ in range(n_iter - 2):
            rtf = torch.matmul(phi, rtf)
        rtf = torch.matmul(psd_s, rtf)
    else:
        rtf = torch.matmul(psd_n, rtf)
    return rtf.squeeze(-1)


def apply_beamforming(beamform_weights, specgram):
    """The enhanced ``(..., freq, time)`` spectrum ``w^H x`` of ``specgram (..., channel,
    freq, time)`` under ``beamform_weights (..., freq, channel)``."""
    if beamform_weights.shape[:-2] != specgram.shape[:-3]:
        raise ValueError(
            "The dimensions except the last two dimensions of beamform_weights should be the same "
            "as the dimensions except the last three dimensions of specgram. "
            f"Found {beamform_weights.shape} for beamform_weights and {specgram.shape} for specgram."
        )
    if not (beamform_weights.is_complex() and specgram.is_complex()):
        raise TypeError(
            "The type of beamform_weights and specgram must be ``torch.cfloat`` or "
            f"``torch.cdouble``. Found {beamform_weights.dtype} for beamform_weights and "
            f"{specgram.dtype} for specgram."
        )
    return torch.einsum("...fc,...cft->...ft", beamform_weights.conj(), specgram)
