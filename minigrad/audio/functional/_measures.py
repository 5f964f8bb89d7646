"""torchaudio.functional's measures and normalizations: ``loudness`` (ITU-R BS.1770-4),
``sliding_window_cmn`` (Kaldi's sliding-window cepstral mean (and variance) normalization),
``edit_distance`` and ``frechet_distance``."""

from __future__ import annotations

import math

import minigrad as torch

from .filtering import highpass_biquad, treble_biquad


def _cmn_windows(num_frames, cmn_window, min_cmn_window, center):
    """Each frame's window ``[start, end)``, by Kaldi's rules as torchaudio steps them."""
    windows = []
    for t in range(num_frames):
        if center:
            start = t - cmn_window // 2
            end = start + cmn_window
        else:
            start, end = t - cmn_window, t + 1
        if start < 0:
            end, start = end - start, 0
        if not center and end > t:
            end = max(t + 1, min_cmn_window)
        if end > num_frames:
            start, end = max(start - (end - num_frames), 0), num_frames
        windows.append((start, end))
    return windows


def sliding_window_cmn(specgram, cmn_window=600, min_cmn_window=100, center=False,
                       norm_vars=False):  # fmt: skip
    """Subtract from each frame of ``specgram (..., time, freq)`` the mean over its window
    (``cmn_window`` frames before it, or centred; at least ``min_cmn_window`` at the start),
    and with ``norm_vars`` divide by the window's standard deviation. torchaudio keeps running
    sums (the first window's sum, then a frame added where the window's end moves and one
    removed where its start moves); here those steps are one cumulative sum (differentiable)."""
    shape = specgram.shape
    num_frames, num_feats = shape[-2:]
    x = specgram.reshape(-1, num_frames, num_feats)
    windows = _cmn_windows(num_frames, cmn_window, min_cmn_window, center)
    starts, ends = [s for s, _ in windows], [e for _, e in windows]
    first = torch.zeros(num_frames, dtype=x.dtype, device=x.device)
    first[0] = 1.0  # the first window's frames enter at step 0
    last = num_frames - 1  # (an index in range where the window's end stays put)
    enter = torch.tensor([0] + [min(e, last) for e in ends[:-1]], device=x.device)
    leave = torch.tensor([0] + starts[:-1], device=x.device)
    enters = torch.tensor([0.0] + [float(ends[t] > ends[t - 1]) for t in range(1, num_frames)],
                          dtype=x.dtype, device=x.device)  # fmt: skip
    leaves = torch.tensor([0.0] + [float(starts[t] > starts[t - 1]) for t in range(1, num_frames)],
                          dtype=x.dtype, device=x.device)  # fmt: skip
    count = torch.tensor([e - s for s, e in windows], dtype=x.dtype, device=x.device)[None, :, None]

    def running_sums(values):
        steps = (
            values.index_select(1, enter) * enters[:, None]
            - values.index_select(1, leave) * leaves[:, None]
        )
        steps = steps + first[:, None] * values[:, : ends[0]].sum(1, keepdim=True)
        return steps.cumsum(1)

    total = running_sums(x)
    out = x - total / count
    if norm_vars:
        variance = running_sums(x**2) / count - total**2 / count**2
        out = torch.where(count == 1, torch.zeros_like(out), out * variance.pow(-0.5))
    return out.reshape(shape)


def loudness(waveform, sample_rate):
    """The loudness of ``waveform (..., channels, time)`` (up to 5 channels) in LKFS:
    K-weighting, 400 ms blocks with 75% overlap, absolute (-70) and relative (-10) gates."""
    if waveform.size(-2) > 5:
        raise ValueError("Only up to 5 channels are supported.")
    gate_samples = int(round(0.4 * sample_rate))
    step = int(round(gate_samples * (1 - 0.75)))
    waveform = treble_biquad(waveform, sample_rate, 4.0, 1500.0, 1 / math.sqrt(2))
    waveform = highpass_biquad(waveform, sample_rate, 38.0, 0.5)
    energy = torch.square(waveform).unfold(-1, gate_samples, step).mean(-1)
    g = torch.tensor([1.0, 1.0, 1.0, 1.41, 1.41], dtype=waveform.dtype, device=waveform.device)
    g = g[: energy.size(-2)]
    block_loudness = -0.691 + 10 * torch.log10((g.unsqueeze(-1) * energy).sum(-2))

    def gated_level(gated):  # (K-weighted level of the gated blocks' mean energy)
        gated = gated.unsqueeze(-2)
        filtered = (gated * energy).sum(-1) / torch.count_nonzero(gated, dim=-1)
        return -0.691 + 10 * torch.log10((g * filtered).sum(-1))

    absolute = block_loudness > -70.0
    relative = gated_level(absolute) - 10
    return gated_level(torch.logical_and(absolute, block_loudness > relative.unsqueeze(-1)))


def edit_distance(seq1, seq2):
    """The Levenshtein distance between two sequences (insertions, deletions, substitutions)."""
    old = list(range(len(seq2) + 1))
    for i in range(1, len(seq1) + 1):
        new = [i] + [0] * len(seq2)
        for j in range(1, len(seq2) + 1):
            if seq1[i - 1] == seq2[j - 1]:
                new[j] = old[j - 1]
            else:
                new[j] = min(old[j - 1], new[j - 1], old[j]) + 1
        old = new
    return int(old[-1])


def frechet_distance(mu_x, sigma_x, mu_y, sigma_y):
    """The Fréchet distance between the Gaussians N(mu_x, sigma_x) and N(mu_y, sigma_y):
    ``|mu_x - mu_y|^2 + tr(sigma_x + sigma_y - 2 sqrt(sigma_x sigma_y))``."""
    if len(mu_x.size()) != 1:
        raise ValueError(f"Input mu_x must be one-dimensional; got dimension {len(mu_x.size())}.")
    if len(sigma_x.size()) != 2:
        raise ValueError(
            f"Input sigma_x must be two-dimensional; got dimension {len(sigma_x.size())}."
        )
    if sigma_x.size(0) != sigma_x.size(1) != mu_x.size(0):
        raise ValueError("Each of sigma_x's dimensions must match mu_x's size.")
    if mu_x.size() != mu_y.size():
        raise ValueError(
            f"Inputs mu_x and mu_y must have the same shape; got {mu_x.size()} and {mu_y.size()}."
        )
    if sigma_x.size() != sigma_y.size():
        raise ValueError(
            f"Inputs sigma_x and sigma_y must have the same shape; got {sigma_x.size()} and "
            f"{sigma_y.size()}."
        )
    a = (mu_x - mu_y).square().sum()
    b = sigma_x.trace() + sigma_y.trace()
    c = torch.linalg.eigvals(sigma_x @ sigma_y).sqrt().real.sum()
    return a + b - 2 * c
