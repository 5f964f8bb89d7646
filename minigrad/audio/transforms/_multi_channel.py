"""torchaudio.transforms' multi-channel beamformers: :class:`PSD`, :class:`MVDR` (from
time-frequency masks, offline or online with running PSDs), :class:`RTFMVDR` and
:class:`SoudenMVDR`, on :mod:`minigrad.audio.functional`'s beamforming functions."""

from __future__ import annotations

import minigrad as torch
from minigrad import nn

from ..._warnings import warn_user
from .. import functional as F


def _get_mvdr_vector(psd_s, psd_n, reference_vector, solution="ref_channel",
                     diagonal_loading=True, diag_eps=1e-7, eps=1e-8):  # fmt: skip
    """MVDR weights by Souden's formula ("ref_channel") or from an RTF ("stv_evd", "stv_power")."""
    if solution == "ref_channel":
        return F.mvdr_weights_souden(
            psd_s, psd_n, reference_vector, diagonal_loading, diag_eps, eps
        )
    if solution == "stv_evd":
        stv = F.rtf_evd(psd_s)
    else:
        stv = F.rtf_power(psd_s, psd_n, reference_vector, diagonal_loading=diagonal_loading,
                          diag_eps=diag_eps)  # fmt: skip
    return F.mvdr_weights_rtf(stv, psd_n, reference_vector, diagonal_loading, diag_eps, eps)


class PSD(nn.Module):
    """PSD matrices (:func:`~minigrad.audio.functional.psd`); with ``multi_mask`` the
    per-channel masks are averaged first."""

    def __init__(self, multi_mask=False, normalize=True, eps=1e-15):
        super().__init__()
        self.multi_mask, self.normalize, self.eps = multi_mask, normalize, eps

    def forward(self, specgram, mask=None):
        if mask is not None and self.multi_mask:
            mask = mask.mean(dim=-3)
        return F.psd(specgram, mask, self.normalize, self.eps)


class MVDR(nn.Module):
    """Mask-based MVDR beamforming of ``specgram (..., channel, freq, time)`` (computed in
    complex128); ``online`` keeps running PSDs and mask sums in buffers across calls."""

    def __init__(self, ref_channel=0, solution="ref_channel", multi_mask=False, diag_loading=True,
                 diag_eps=1e-7, online=False):  # fmt: skip
        super().__init__()
        if solution not in ["ref_channel", "stv_evd", "stv_power"]:
            raise ValueError(
                '`solution` must be one of ["ref_channel", "stv_evd", "stv_power"]. '
                f"Given {solution}"
            )
        self.ref_channel, self.solution, self.multi_mask = ref_channel, solution, multi_mask
        self.diag_loading, self.diag_eps, self.online = diag_loading, diag_eps, online
        self.psd = PSD(multi_mask)
        for name in ("psd_s", "psd_n", "mask_sum_s", "mask_sum_n"):
            self.register_buffer(name, torch.zeros(1))

    def _updated(self, running, new, mask_sum, mask):
        total = mask_sum + mask.sum(dim=-1)
        return running * (mask_sum / total)[..., None, None] + new * (1 / total)[..., None, None]

    def _get_updated_mvdr_vector(self, psd_s, psd_n, mask_s, mask_n, reference_vector,
                                 solution="ref_channel", diagonal_loading=True, diag_eps=1e-7,
                                 eps=1e-8):  # fmt: skip
        if self.multi_mask:
            mask_s, mask_n = mask_s.mean(dim=-3), mask_n.mean(dim=-3)
        if self.psd_s.ndim == 1:
            self.psd_s, self.psd_n = psd_s, psd_n
            self.mask_sum_s, self.mask_sum_n = mask_s.sum(dim=-1), mask_n.sum(dim=-1)
        else:
            psd_s = self._updated(self.psd_s, psd_s, self.mask_sum_s, mask_s)
            psd_n = self._updated(self.psd_n, psd_n, self.mask_sum_n, mask_n)
            self.psd_s, self.psd_n = psd_s, psd_n
            self.mask_sum_s = self.mask_sum_s + mask_s.sum(dim=-1)
            self.mask_sum_n = self.mask_sum_n + mask_n.sum(dim=-1)
        return _get_mvdr_vector(psd_s, psd_n, reference_vector, solution, diagonal_loading,
                                diag_eps, eps)  # fmt: skip

    def forward(self, specgram, mask_s, mask_n=None):
        dtype = specgram.dtype
        if specgram.ndim < 3:
            raise ValueError(
                f"Expected at least 3D tensor (..., channel, freq, time). Found: {specgram.shape}"
            )
        if not specgram.is_complex():
            raise ValueError(
                "The type of ``specgram`` tensor must be ``torch.cfloat`` or ``torch.cdouble``."
                f"                    Found: {specgram.dtype}"
            )
        if specgram.dtype == torch.cfloat:
            specgram = specgram.cdouble()
        if mask_n is None:
            warn_user("``mask_n`` is not provided, use ``1 - mask_s`` as ``mask_n``.")
            mask_n = 1 - mask_s
        psd_s, psd_n = self.psd(specgram, mask_s), self.psd(specgram, mask_n)
        u = torch.zeros(specgram.shape[:-2], device=specgram.device, dtype=torch.cdouble)
        u[..., self.ref_channel] = 1
        if self.online:
            w = self._get_updated_mvdr_vector(psd_s, psd_n, mask_s, mask_n, u, self.solution,
                                              self.diag_loading, self.diag_eps)  # fmt: skip
        else:
            w = _get_mvdr_vector(psd_s, psd_n, u, self.solution, self.diag_loading, self.diag_eps)
        return F.apply_beamforming(w, specgram).to(dtype)


class RTFMVDR(nn.Module):
    """MVDR beamforming from an RTF and a noise PSD (:func:`~minigrad.audio.functional.mvdr_weights_rtf`)."""

    def forward(self, specgram, rtf, psd_n, reference_channel, diagonal_loading=True,
                diag_eps=1e-7, eps=1e-8):  # fmt: skip
        w = F.mvdr_weights_rtf(rtf, psd_n, reference_channel, diagonal_loading, diag_eps, eps)
        return F.apply_beamforming(w, specgram)


class SoudenMVDR(nn.Module):
    """Souden's MVDR beamforming from speech and noise PSDs
    (:func:`~minigrad.audio.functional.mvdr_weights_souden`)."""

    def forward(self, specgram, psd_s, psd_n, reference_channel, diagonal_loading=True,
                diag_eps=1e-7, eps=1e-8):  # fmt: skip
        w = F.mvdr_weights_souden(psd_s, psd_n, reference_channel, diagonal_loading, diag_eps, eps)
        return F.apply_beamforming(w, specgram)
