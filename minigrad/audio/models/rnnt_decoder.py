"""torchaudio.models.RNNTBeamSearch: beam search over an :class:`~.rnnt.RNNT`'s joint
distribution (Graves, 2012, with torchaudio's bookkeeping: per frame, hypotheses that emit
blank ("b") merge by log-add, those that emit a token ("a") extend through the predictor, up
to ``step_max_tokens`` tokens a frame). A :data:`Hypothesis` is torchaudio's tuple
``(tokens, predictor_out, predictor_state, score)``, so the same hypotheses come out."""

from __future__ import annotations

from collections.abc import Callable

import minigrad as torch
from minigrad import nn

Hypothesis = tuple  # (tokens: list[int], predictor_out: Tensor, state: list[list[Tensor]], score)


def _key(hypo):
    return str(hypo[0])


def _batch_state(hypos):
    """The hypotheses' predictor states concatenated along the batch."""
    first = hypos[0][2]
    return [[torch.cat([h[2][i][j] for h in hypos]) for j in range(len(first[i]))]
            for i in range(len(first))]  # fmt: skip


def _slice_state(states, idx, device):
    index = torch.tensor([idx], device=device)
    return [[state.index_select(0, index) for state in layer] for layer in states]


def _default_hypo_sort_key(hypo):
    """Score per token (the start token included), torchaudio's length normalization."""
    return hypo[3] / (len(hypo[0]) + 1)


def _compute_updated_scores(hypos, next_token_probs, beam_width):
    """The ``beam_width`` best (score, hypothesis index, token) extensions by a non-blank."""
    scores = torch.tensor([h[3] for h in hypos]).unsqueeze(1) + next_token_probs[:, :-1]
    best, idx = scores.reshape(-1).topk(beam_width)
    return best, idx.div(scores.shape[1], rounding_mode="trunc"), idx % scores.shape[1]


def _remove_hypo(hypo, hypo_list):
    for i, elem in enumerate(hypo_list):
        if _key(hypo) == _key(elem):
            del hypo_list[i]
            break


class RNNTBeamSearch(nn.Module):
    """Beam search for ``model`` (an :class:`~.rnnt.RNNT`) with ``blank`` the last class
    torchaudio expects it to be; ``forward(input (T, D) or (1, T, D), length, beam_width)``
    returns the hypotheses best first; ``infer`` does one streaming segment, carrying the
    transcriber's state and the hypotheses."""

    def __init__(self, model, blank: int, temperature: float = 1.0,
                 hypo_sort_key: Callable | None = None, step_max_tokens: int = 100):  # fmt: skip
        super().__init__()
        self.model, self.blank, self.temperature = model, blank, temperature
        self.hypo_sort_key = _default_hypo_sort_key if hypo_sort_key is None else hypo_sort_key
        self.step_max_tokens = step_max_tokens

    def _init_b_hypos(self, device):
        one = torch.tensor([1], device=device)
        out, _, state = self.model.predict(torch.tensor([[self.blank]], device=device), one, None)
        return [([self.blank], out[0].detach(), state, 0.0)]

    def _gen_next_token_probs(self, enc_out, hypos, device):
        predictor_out = torch.stack([h[1] for h in hypos], dim=0)
        joined, _, _ = self.model.join(enc_out, torch.tensor([1], device=device), predictor_out,
                                       torch.tensor([1] * len(hypos), device=device))  # fmt: skip
        return nn.functional.log_softmax(joined / self.temperature, dim=3)[:, 0, 0]

    def _gen_b_hypos(self, b_hypos, a_hypos, next_token_probs, key_to_b_hypo):
        """Every "a" hypothesis ended with blank, merged (log-add) with its "b" twin."""
        for i, h_a in enumerate(a_hypos):
            blank_score = h_a[3] + next_token_probs[i, -1]
            if _key(h_a) in key_to_b_hypo:
                h_b = key_to_b_hypo[_key(h_a)]
                _remove_hypo(h_b, b_hypos)
                score = float(torch.tensor(h_b[3]).logaddexp(blank_score))
            else:
                score = float(blank_score)
            h_b = (h_a[0], h_a[1], h_a[2], score)
            b_hypos.append(h_b)
            key_to_b_hypo[_key(h_b)] = h_b
        _, order = torch.tensor([h[3] for h in b_hypos]).sort()
        return [b_hypos[i] for i in order.tolist()]

    def _gen_a_hypos(self, a_hypos, b_hypos, next_token_probs, t, beam_width, device):
        """The token extensions that beat the ``beam_width``-th best "b" hypothesis."""
        scores, hypo_idx, tokens = _compute_updated_scores(a_hypos, next_token_probs, beam_width)
        floor = -float("inf") if len(b_hypos) < beam_width else b_hypos[-beam_width][3]
        base, new_tokens, new_scores = [], [], []
        for i in range(beam_width):
            score = float(scores[i])
            if score > floor:
                base.append(a_hypos[int(hypo_idx[i])])
                new_tokens.append(int(tokens[i]))
                new_scores.append(score)
        return self._gen_new_hypos(base, new_tokens, new_scores, t, device) if base else []

    def _gen_new_hypos(self, base_hypos, tokens, scores, t, device):
        targets = torch.tensor([[token] for token in tokens], device=device)
        out, _, states = self.model.predict(
            targets, torch.tensor([1] * len(base_hypos), device=device), _batch_state(base_hypos)
        )
        return [(h[0] + [tokens[i]], out[i].detach(), _slice_state(states, i, device), scores[i])
                for i, h in enumerate(base_hypos)]  # fmt: skip

    def _search(self, enc_out, hypo, beam_width):
        device = enc_out.device
        b_hypos = self._init_b_hypos(device) if hypo is None else hypo
        for t in range(enc_out.shape[1]):
            a_hypos, b_hypos, key_to_b_hypo, symbols = b_hypos, [], {}, 0
            while a_hypos:
                probs = self._gen_next_token_probs(enc_out[:, t : t + 1], a_hypos, device).cpu()
                b_hypos = self._gen_b_hypos(b_hypos, a_hypos, probs, key_to_b_hypo)
                if symbols == self.step_max_tokens:
                    break
                a_hypos = self._gen_a_hypos(a_hypos, b_hypos, probs, t, beam_width, device)
                if a_hypos:
                    symbols += 1
            _, best = torch.tensor([self.hypo_sort_key(h) for h in b_hypos]).topk(beam_width)
            b_hypos = [b_hypos[i] for i in best.tolist()]
        return b_hypos

    @staticmethod
    def _check(input, length):
        if input.dim() != 2 and not (input.dim() == 3 and input.shape[0] == 1):
            raise ValueError("input must be of shape (T, D) or (1, T, D)")
        if length.shape != () and length.shape != (1,):
            raise ValueError("length must be of shape () or (1,)")
        return (input.unsqueeze(0) if input.dim() == 2 else input,
                length.unsqueeze(0) if length.dim() == 0 else length)  # fmt: skip

    def forward(self, input, length, beam_width: int):
        """Hypotheses for one utterance, best first (``beam_width`` of them)."""
        input, length = self._check(input, length)
        enc_out, _ = self.model.transcribe(input, length)
        return self._search(enc_out, None, beam_width)

    def infer(self, input, length, beam_width: int, state=None, hypothesis=None):
        """One streaming segment: ``(hypotheses, transcriber state)``; pass both back with
        the next segment."""
        input, length = self._check(input, length)
        enc_out, _, state = self.model.transcribe_streaming(input, length, state)
        return self._search(enc_out, hypothesis, beam_width), state
