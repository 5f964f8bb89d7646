"""torchaudio.functional's CTC forced alignment: :func:`forced_align` (the Viterbi path of a
label sequence through a CTC emission), :func:`merge_tokens` and :class:`TokenSpan`.

torchaudio runs the alignment in a C++ op; here the trellis over the ``2 L + 1`` CTC states
(blank, label, blank, ..., blank) is stepped through time on NumPy/CuPy arrays, each step
vectorized over the states, with torchaudio's pruning window and its tie-breaking (stay, then
advance one, then skip a blank, each only when strictly better), so the same path comes out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import minigrad as torch


def _check(log_probs, targets, input_lengths, target_lengths, blank):
    """torchaudio's checks (its Python wrapper's, then its C++ op's), in its words."""
    if bool((targets == blank).any()):
        raise ValueError(f"targets Tensor shouldn't contain blank index. Found {targets}.")
    if targets.numel() and int(targets.max()) >= log_probs.shape[-1]:
        raise ValueError("targets values must be less than the CTC dimension")
    if log_probs.dtype not in (torch.float64, torch.float32, torch.float16):
        raise RuntimeError("log_probs must be float64, float32 or float16 (half) type")
    if targets.dtype not in (torch.int32, torch.int64):
        raise RuntimeError("targets must be int32 or int64 type")
    if log_probs.ndim != 3:
        raise RuntimeError("log_probs must be 3-D (batch_size, input length, num classes)")
    if targets.ndim != 2:
        raise RuntimeError("targets must be 2-D (batch_size, target length,)")
    if input_lengths.ndim != 1:
        raise RuntimeError("input_lengths must be 1-D (batch_size,)")
    if target_lengths.ndim != 1:
        raise RuntimeError("target_lengths must be 1-D (batch_size,)")
    if log_probs.shape[0] != 1:
        raise RuntimeError("The batch dimension for log_probs must be 1 at the current version.")
    if targets.shape[0] != 1:
        raise RuntimeError("The batch dimension for targets must be 1 at the current version.")
    if not 0 <= blank < log_probs.shape[-1]:
        raise RuntimeError("blank must be within [0, num classes)")
    if log_probs.shape[1] != int(input_lengths.max()):
        raise RuntimeError("input length mismatch")
    if targets.shape[1] != int(target_lengths.max()):
        raise RuntimeError("target length mismatch")


def _viterbi(lp, labels, blank):
    """The best path's token per frame, for ``lp (T, C)`` (a NumPy array) and ``labels``
    (a list of ints). The time loop runs on the host: each step is a few small vectors."""
    n_frames, n_labels = lp.shape[0], len(labels)
    n_states = 2 * n_labels + 1
    repeats = sum(labels[i] == labels[i - 1] for i in range(1, n_labels))
    if n_frames < n_labels + repeats:
        raise RuntimeError(
            f"targets length is too long for CTC. Found log_probs length: {n_frames}, "
            f"targets length: {n_labels}, and number of repeats: {repeats}"
        )
    tokens = np.full(n_states, blank, np.int64)
    tokens[1::2] = labels
    skip = np.zeros(n_states, bool)  # a label state reached from two states back
    skip[3::2] = tokens[3::2] != tokens[1:-2:2]
    # [start, end): the states on some path from the first frame to the last (torchaudio's
    # bookkeeping: the window's ends move by one or two states a frame).
    need = n_labels + repeats
    start, end = (0 if n_frames - need > 0 else 1), (1 if n_states == 1 else 2)
    neg = -np.inf
    alpha = np.full(n_states, neg, np.float32 if lp.dtype == np.float16 else lp.dtype)
    lp_host = lp.astype(alpha.dtype)
    alpha[start:end] = lp_host[0, tokens[start:end]]
    back = np.zeros((n_frames, n_states), np.int8)
    for t in range(1, n_frames):
        if n_frames - t <= need:
            if start % 2 == 1 and labels[start // 2] != labels[start // 2 + 1]:
                start += 1
            start += 1
        if t <= need:
            if end % 2 == 0 and end < 2 * n_labels and labels[end // 2 - 1] != labels[end // 2]:
                end += 1
            end += 1
        x0 = alpha
        x1 = np.concatenate(([neg], alpha[:-1]))
        x2 = np.where(skip, np.concatenate(([neg, neg], alpha[:-2])), neg)
        choice = np.where((x2 > x1) & (x2 > x0), 2, np.where(x1 > x0, 1, 0)).astype(np.int8)
        best = np.choose(choice, (x0, x1, x2))
        new = np.full(n_states, neg, alpha.dtype)
        new[start:end] = best[start:end] + lp_host[t, tokens[start:end]]
        back[t, start:end] = choice[start:end]
        alpha = new
    state = 0 if n_states == 1 else (n_states - 1 if alpha[-1] > alpha[-2] else n_states - 2)
    path = np.empty(n_frames, np.int64)
    for t in range(n_frames - 1, -1, -1):
        path[t] = tokens[state]
        state -= back[t, state]
    return path


def forced_align(log_probs, targets, input_lengths=None, target_lengths=None, blank=0):
    """Align the CTC label sequence ``targets (1, L)`` to the emission ``log_probs (1, T, C)``:
    returns ``(alignments (1, T), scores (1, T))``, the best path's token per frame (blank
    between labels) and that token's log-probability per frame. As torchaudio 2.11, batch
    size 1 only, ``T >= L + repeats`` and ``blank`` not among the targets."""
    if input_lengths is None:
        input_lengths = torch.full((log_probs.shape[0],), log_probs.shape[1], dtype=torch.int64)
    if target_lengths is None:
        target_lengths = torch.full((targets.shape[0],), targets.shape[1], dtype=torch.int64)
    _check(log_probs, targets, input_lengths, target_lengths, blank)
    lp = log_probs.detach().cpu().numpy()[0]
    path = _viterbi(lp, [int(v) for v in targets.tolist()[0]], blank)
    paths = torch.tensor(path[None], dtype=targets.dtype, device=log_probs.device)
    frames = torch.arange(log_probs.shape[1], device=log_probs.device)
    return paths, log_probs[:, frames, paths[0]]


@dataclass
class TokenSpan:
    """A token with its frames ``[start, end)`` and its mean score (from :func:`merge_tokens`)."""

    token: int
    start: int
    end: int
    score: float

    def __len__(self) -> int:
        """The span's number of frames."""
        return self.end - self.start


def merge_tokens(tokens, scores, blank=0):
    """The spans of ``tokens (T,)`` (an alignment from :func:`forced_align`) with repeats
    merged and blanks dropped, each scored by the mean of ``scores (T,)`` over its frames."""
    if tokens.ndim != 1 or scores.ndim != 1:
        raise ValueError("`tokens` and `scores` must be 1D Tensor.")
    if len(tokens) != len(scores):
        raise ValueError("`tokens` and `scores` must be the same length.")
    values = [int(v) for v in tokens.tolist()]
    bounds = [
        i for i in range(len(values) + 1) if i in (0, len(values)) or values[i] != values[i - 1]
    ]
    return [
        TokenSpan(token=values[s], start=s, end=e, score=scores[s:e].mean().item())
        for s, e in zip(bounds[:-1], bounds[1:])
        if values[s] != blank
    ]
