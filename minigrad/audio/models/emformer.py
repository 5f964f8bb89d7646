"""torchaudio.models.Emformer (Shi et al., 2021): the streaming transformer of torchaudio's
RNN-T recipes. The utterance is cut into segments; each segment's frames attend to their
segment, ``left_context_length`` frames before it, a right-context block of
``right_context_length`` look-ahead frames and up to ``max_memory_size`` memory vectors
(average-pooled summaries of earlier segments, passed from each layer to the next).
``forward`` runs the whole utterance at once under a block attention mask; ``infer`` takes one
segment (plus its right context) at a time and carries per-layer states, and gives the same
frames. torchaudio's module names and initialization, so its state_dicts load."""

from __future__ import annotations

import math

import minigrad as torch
from minigrad import nn

from .conformer import _lengths_to_padding_mask


def _gen_padding_mask(utterance, right_context, summary, lengths, mems, left_context_key=None):
    """The keys' padding mask (None for batch size 1): memory, right context, left context
    and the valid utterance frames are keys."""
    if right_context.size(1) == 1:
        return None
    total = right_context.size(0) + utterance.size(0) + summary.size(0)
    rc_blocks = total - int(lengths.max()) - summary.size(0)
    lc_blocks = left_context_key.size(0) if left_context_key is not None else 0
    return _lengths_to_padding_mask(lengths + mems.size(0) + rc_blocks + lc_blocks)


def _activation(activation):
    modules = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU}
    if activation not in modules:
        raise ValueError(f"Unsupported activation {activation}")
    return modules[activation]()


def _weight_init_gains(strategy, num_layers):
    """Per-layer Xavier gains of the attention's input projections (None: default init)."""
    if strategy is None:
        return [None] * num_layers
    if strategy == "depthwise":
        return [1.0 / math.sqrt(i + 1) for i in range(num_layers)]
    if strategy == "constant":
        return [1.0 / math.sqrt(2)] * num_layers
    raise ValueError(f"Unsupported weight_init_scale_strategy value {strategy}")


def _mask_block(col_widths, col_mask, num_rows, device):
    """``num_rows`` rows of ones over the columns ``col_mask`` marks, zeros elsewhere."""
    if len(col_widths) != len(col_mask):
        raise ValueError("Length of col_widths must match that of col_mask")
    return torch.cat(
        [(torch.ones if ones else torch.zeros)(num_rows, width, device=device)
         for width, ones in zip(col_widths, col_mask)],
        dim=1,
    )  # fmt: skip


class _EmformerAttention(nn.Module):
    """Multi-head attention of [right context, utterance, summary] queries over [memory,
    right context, (left context,) utterance] keys; returns the outputs and the next memory
    (clamped to [-10, 10], or tanh)."""

    def __init__(self, input_dim, num_heads, dropout=0.0, weight_init_gain=None,
                 tanh_on_mem=False, negative_inf=-1e8):  # fmt: skip
        super().__init__()
        if input_dim % num_heads != 0:
            raise ValueError(
                f"input_dim ({input_dim}) is not a multiple of num_heads ({num_heads})."
            )
        self.input_dim, self.num_heads, self.dropout = input_dim, num_heads, dropout
        self.tanh_on_mem, self.negative_inf = tanh_on_mem, negative_inf
        self.scaling = (input_dim // num_heads) ** -0.5
        self.emb_to_key_value = nn.Linear(input_dim, 2 * input_dim, bias=True)
        self.emb_to_query = nn.Linear(input_dim, input_dim, bias=True)
        self.out_proj = nn.Linear(input_dim, input_dim, bias=True)
        if weight_init_gain:
            nn.init.xavier_uniform_(self.emb_to_key_value.weight, gain=weight_init_gain)
            nn.init.xavier_uniform_(self.emb_to_query.weight, gain=weight_init_gain)

    def _probs(self, weights, attention_mask, padding_mask):
        """Masked softmax (in float32 at least), then dropout."""
        scores = weights.float().masked_fill(attention_mask.unsqueeze(0), self.negative_inf)
        if padding_mask is not None:
            rows = weights.size(1)
            batch = weights.size(0) // self.num_heads
            scores = scores.view(batch, self.num_heads, rows, -1).masked_fill(
                padding_mask.unsqueeze(1).unsqueeze(2).to(torch.bool), self.negative_inf
            )
            scores = scores.view(batch * self.num_heads, rows, -1)
        probs = nn.functional.softmax(scores, dim=-1).type_as(weights)
        return nn.functional.dropout(probs, p=float(self.dropout), training=self.training)

    def _forward_impl(self, utterance, lengths, right_context, summary, mems, attention_mask,
                      left_context_key=None, left_context_val=None):  # fmt: skip
        batch = utterance.size(1)
        total = right_context.size(0) + utterance.size(0) + summary.size(0)
        query = self.emb_to_query(torch.cat([right_context, utterance, summary]))
        key, value = self.emb_to_key_value(torch.cat([mems, right_context, utterance])).chunk(
            chunks=2, dim=2
        )
        if left_context_key is not None and left_context_val is not None:
            cut = mems.size(0) + total - int(lengths.max()) - summary.size(0)
            key = torch.cat([key[:cut], left_context_key, key[cut:]])
            value = torch.cat([value[:cut], left_context_val, value[cut:]])
        head_dim = self.input_dim // self.num_heads
        q, k, v = (
            t.contiguous().view(-1, batch * self.num_heads, head_dim).transpose(0, 1)
            for t in (query, key, value)
        )
        weights = torch.bmm(q * self.scaling, k.transpose(1, 2))
        padding_mask = _gen_padding_mask(utterance, right_context, summary, lengths, mems,
                                         left_context_key)  # fmt: skip
        attention = torch.bmm(self._probs(weights, attention_mask, padding_mask), v)
        attention = attention.transpose(0, 1).contiguous().view(total, batch, self.input_dim)
        out = self.out_proj(attention)
        output, output_mems = out[: total - summary.size(0)], out[total - summary.size(0) :]
        output_mems = torch.tanh(output_mems) if self.tanh_on_mem else output_mems.clamp(-10, 10)
        return output, output_mems, key, value

    def forward(self, utterance, lengths, right_context, summary, mems, attention_mask):
        output, output_mems, _, _ = self._forward_impl(
            utterance, lengths, right_context, summary, mems, attention_mask
        )
        return output, output_mems[:-1]

    def infer(self, utterance, lengths, right_context, summary, mems, left_context_key,
              left_context_val):  # fmt: skip
        """One segment: outputs, next memory, and this segment's keys/values (the next left
        context)."""
        query_dim = right_context.size(0) + utterance.size(0) + summary.size(0)
        key_dim = (
            right_context.size(0) + utterance.size(0) + mems.size(0) + left_context_key.size(0)
        )
        attention_mask = torch.zeros(query_dim, key_dim, dtype=torch.bool, device=utterance.device)
        attention_mask[-1, : mems.size(0)] = True
        output, output_mems, key, value = self._forward_impl(
            utterance, lengths, right_context, summary, mems, attention_mask,
            left_context_key=left_context_key, left_context_val=left_context_val,
        )  # fmt: skip
        start = mems.size(0) + right_context.size(0)
        return output, output_mems, key[start:], value[start:]


class _EmformerLayer(nn.Module):
    """Pre-norm attention with a residual, a feed-forward block with a residual, and an
    output layer norm; the memory is the average-pooled segment summaries."""

    def __init__(self, input_dim, num_heads, ffn_dim, segment_length, dropout=0.0,
                 activation="relu", left_context_length=0, max_memory_size=0,
                 weight_init_gain=None, tanh_on_mem=False, negative_inf=-1e8):  # fmt: skip
        super().__init__()
        self.attention = _EmformerAttention(input_dim, num_heads, dropout, weight_init_gain,
                                            tanh_on_mem, negative_inf)  # fmt: skip
        self.dropout = nn.Dropout(dropout)
        self.memory_op = nn.AvgPool1d(segment_length, stride=segment_length, ceil_mode=True)
        self.pos_ff = nn.Sequential(
            nn.LayerNorm(input_dim), nn.Linear(input_dim, ffn_dim), _activation(activation),
            nn.Dropout(dropout), nn.Linear(ffn_dim, input_dim), nn.Dropout(dropout),
        )  # fmt: skip
        self.layer_norm_input = nn.LayerNorm(input_dim)
        self.layer_norm_output = nn.LayerNorm(input_dim)
        self.left_context_length, self.segment_length = left_context_length, segment_length
        self.max_memory_size, self.input_dim = max_memory_size, input_dim
        self.use_mem = max_memory_size > 0

    def _init_state(self, batch_size, device):
        """[memory, left-context keys, left-context values, frames seen (1, batch) int32]."""
        return [
            torch.zeros(self.max_memory_size, batch_size, self.input_dim, device=device),
            torch.zeros(self.left_context_length, batch_size, self.input_dim, device=device),
            torch.zeros(self.left_context_length, batch_size, self.input_dim, device=device),
            torch.zeros(1, batch_size, dtype=torch.int32, device=device),
        ]

    def _unpack_state(self, state):
        past = int(state[3][0][0].item())
        past_lc = min(self.left_context_length, past)
        past_mem = min(self.max_memory_size, math.ceil(past / self.segment_length))
        return (state[0][self.max_memory_size - past_mem :],
                state[1][self.left_context_length - past_lc :],
                state[2][self.left_context_length - past_lc :])  # fmt: skip

    def _pack_state(self, next_k, next_v, update_length, mems, state):
        new_k, new_v = torch.cat([state[1], next_k]), torch.cat([state[2], next_v])
        state[0] = torch.cat([state[0], mems])[-self.max_memory_size :]
        state[1] = new_k[new_k.shape[0] - self.left_context_length :]
        state[2] = new_v[new_v.shape[0] - self.left_context_length :]
        state[3] = state[3] + update_length
        return state

    def _pre_norm(self, utterance, right_context):
        normed = self.layer_norm_input(torch.cat([right_context, utterance]))
        return normed[right_context.size(0) :], normed[: right_context.size(0)]

    def _post_attention(self, rc_output, utterance, right_context):
        result = self.dropout(rc_output) + torch.cat([right_context, utterance])
        result = self.layer_norm_output(self.pos_ff(result) + result)
        return result[right_context.size(0) :], result[: right_context.size(0)]

    def _summary(self, utterance):
        if not self.use_mem:
            return torch.empty(0, dtype=utterance.dtype, device=utterance.device)
        return self.memory_op(utterance.permute(1, 2, 0)).permute(2, 0, 1)

    def forward(self, utterance, lengths, right_context, mems, attention_mask):
        if attention_mask is None:
            raise ValueError("attention_mask must be not None when for_inference is False")
        normed_utterance, normed_rc = self._pre_norm(utterance, right_context)
        rc_output, output_mems = self.attention(normed_utterance, lengths, normed_rc,
                                                self._summary(normed_utterance), mems,
                                                attention_mask)  # fmt: skip
        return (*self._post_attention(rc_output, utterance, right_context), output_mems)

    def infer(self, utterance, lengths, right_context, state, mems):
        normed_utterance, normed_rc = self._pre_norm(utterance, right_context)
        if state is None:
            state = self._init_state(utterance.size(1), device=utterance.device)
        pre_mems, lc_key, lc_val = self._unpack_state(state)
        summary = self._summary(normed_utterance)[:1]
        rc_output, next_m, next_k, next_v = self.attention.infer(
            normed_utterance, lengths, normed_rc, summary, pre_mems, lc_key, lc_val
        )
        state = self._pack_state(next_k, next_v, utterance.size(0), mems, state)
        output_utterance, output_rc = self._post_attention(rc_output, utterance, right_context)
        return output_utterance, output_rc, state, next_m


class _EmformerImpl(nn.Module):
    """The layer stack, the right-context blocks and the block attention mask."""

    def __init__(self, emformer_layers, segment_length, left_context_length=0,
                 right_context_length=0, max_memory_size=0):  # fmt: skip
        super().__init__()
        self.use_mem = max_memory_size > 0
        self.memory_op = nn.AvgPool1d(segment_length, stride=segment_length, ceil_mode=True)
        self.emformer_layers = emformer_layers
        self.left_context_length, self.right_context_length = (
            left_context_length,
            right_context_length,
        )
        self.segment_length, self.max_memory_size = segment_length, max_memory_size

    def _gen_right_context(self, x):
        """The ``right_context_length`` frames after each segment, stacked."""
        length, rc = x.shape[0], self.right_context_length
        num_segs = math.ceil((length - rc) / self.segment_length)
        blocks = [x[(i + 1) * self.segment_length : (i + 1) * self.segment_length + rc]
                  for i in range(num_segs - 1)]  # fmt: skip
        return torch.cat(blocks + [x[length - rc :]])

    def _col_widths(self, seg_idx, utterance_length):
        """Column widths of segment ``seg_idx``'s mask rows: [memory before / in / after,]
        right context before / its own / after, utterance before / its window / after."""
        num_segs = math.ceil(utterance_length / self.segment_length)
        rc, lc = self.right_context_length, self.left_context_length
        rc_start = seg_idx * rc
        seg_start = max(seg_idx * self.segment_length - lc, 0)
        seg_end = min((seg_idx + 1) * self.segment_length, utterance_length)
        widths = [rc_start, rc, rc * num_segs - rc_start - rc, seg_start, seg_end - seg_start,
                  utterance_length - seg_end]  # fmt: skip
        if self.use_mem:
            m_start = max(seg_idx - self.max_memory_size, 0)
            widths = [m_start, seg_idx - m_start, num_segs - 1 - seg_idx] + widths
        return widths

    def _gen_attention_mask(self, utterance):
        """True where a query (right context, utterance, summary rows) may not look."""
        length = utterance.size(0)
        num_segs = math.ceil(length / self.segment_length)
        ones = [1, 4, 7] if self.use_mem else [1, 4]
        cols = 9 if self.use_mem else 6
        rc_q_cols = [i in ones for i in range(cols)]
        s_cols = [i in (4, 7) for i in range(cols)]
        rc_mask, query_mask, summary_mask = [], [], []
        for seg in range(num_segs):
            widths = self._col_widths(seg, length)
            rows = min(self.segment_length, length - seg * self.segment_length)
            rc_mask.append(
                _mask_block(widths, rc_q_cols, self.right_context_length, utterance.device)
            )
            query_mask.append(_mask_block(widths, rc_q_cols, rows, utterance.device))
            if self.use_mem:
                summary_mask.append(_mask_block(widths, s_cols, 1, utterance.device))
        masks = [rc_mask, query_mask] + ([summary_mask] if self.use_mem else [])
        return (1 - torch.cat([torch.cat(m) for m in masks])).to(torch.bool)

    def forward(self, input, lengths):
        """``input (batch, frames + right_context_length, dim)`` -> ``(output (batch, frames,
        dim), lengths)``."""
        x = input.permute(1, 0, 2)
        right_context = self._gen_right_context(x)
        utterance = x[: x.size(0) - self.right_context_length]
        attention_mask = self._gen_attention_mask(utterance)
        if self.use_mem:
            mems = self.memory_op(utterance.permute(1, 2, 0)).permute(2, 0, 1)[:-1]
        else:
            mems = torch.empty(0, dtype=x.dtype, device=x.device)
        output = utterance
        for layer in self.emformer_layers:
            output, right_context, mems = layer(
                output, lengths, right_context, mems, attention_mask
            )
        return output.permute(1, 0, 2), lengths

    def infer(self, input, lengths, states=None):
        """One segment ``input (batch, segment_length + right_context_length, dim)`` ->
        ``(output (batch, segment_length, dim), output_lengths, states)``; pass the states
        back with the next segment."""
        if input.size(1) != self.segment_length + self.right_context_length:
            raise ValueError(
                "Per configured segment_length and right_context_length"
                f", expected size of {self.segment_length + self.right_context_length} for dimension 1 of input"
                f", but got {input.size(1)}."
            )
        x = input.permute(1, 0, 2)
        start = x.size(0) - self.right_context_length
        right_context, utterance = x[start:], x[:start]
        output_lengths = torch.clamp(lengths - self.right_context_length, min=0)
        if self.use_mem:
            mems = self.memory_op(utterance.permute(1, 2, 0)).permute(2, 0, 1)
        else:
            mems = torch.empty(0, dtype=x.dtype, device=x.device)
        output, output_states = utterance, []
        for i, layer in enumerate(self.emformer_layers):
            output, right_context, state, mems = layer.infer(
                output, output_lengths, right_context, None if states is None else states[i], mems
            )
            output_states.append(state)
        return output.permute(1, 0, 2), output_lengths, output_states


class Emformer(_EmformerImpl):
    """Emformer with torchaudio's arguments: ``num_layers`` layers of ``input_dim`` wide,
    ``num_heads``-head attention and ``ffn_dim`` feed-forward; segments of ``segment_length``
    frames with ``left_context_length``, ``right_context_length`` and ``max_memory_size``."""

    def __init__(self, input_dim, num_heads, ffn_dim, num_layers, segment_length, dropout=0.0,
                 activation="relu", left_context_length=0, right_context_length=0,
                 max_memory_size=0, weight_init_scale_strategy="depthwise", tanh_on_mem=False,
                 negative_inf=-1e8):  # fmt: skip
        gains = _weight_init_gains(weight_init_scale_strategy, num_layers)
        layers = nn.ModuleList(
            _EmformerLayer(input_dim, num_heads, ffn_dim, segment_length, dropout=dropout,
                           activation=activation, left_context_length=left_context_length,
                           max_memory_size=max_memory_size, weight_init_gain=gains[i],
                           tanh_on_mem=tanh_on_mem, negative_inf=negative_inf)
            for i in range(num_layers)
        )  # fmt: skip
        super().__init__(layers, segment_length, left_context_length=left_context_length,
                         right_context_length=right_context_length,
                         max_memory_size=max_memory_size)  # fmt: skip
