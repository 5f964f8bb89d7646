"""BiDAF (Seo et al. 2017) as AllenNLP's ``BidirectionalAttentionFlow`` writes it: a highway
over word embeddings, a packed bidirectional LSTM phrase encoder, the trilinear similarity
``w·[c; q; c∘q]`` (``LinearMatrixAttention`` with ``"x,y,x*y"``), ``masked_softmax`` for
context-to-query attention and ``weighted_sum``, query-to-context attention from
``replace_masked_values(...).max(dim=-1)`` and a softmax over the passage, the merged
``[c; c2q; c∘c2q; c∘q2c]`` representation, a modelling LSTM, span-start and span-end logits
(the end conditioned on a start-weighted summary tiled over the passage), ``masked_log_softmax``
losses with ``nll_loss``, and ``get_best_span`` (``triu(...).log()``, ``argmax`` over the
flattened span matrix, ``torch.div(..., rounding_mode="trunc")`` and ``fmod``); trained on
synthetic questions whose answer follows the question's words in the passage."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.manual_seed(0)


def masked_softmax(vector, mask, dim=-1):
    while mask.dim() < vector.dim():
        mask = mask.unsqueeze(1)
    masked_vector = vector.masked_fill(~mask, torch.finfo(vector.dtype).min)
    return torch.nn.functional.softmax(masked_vector, dim=dim)


def masked_log_softmax(vector, mask, dim=-1):
    while mask.dim() < vector.dim():
        mask = mask.unsqueeze(1)
    vector = vector + (mask + 1e-45).log()
    return torch.nn.functional.log_softmax(vector, dim=dim)


def weighted_sum(matrix, attention):
    if attention.dim() == 2 and matrix.dim() == 3:
        return attention.unsqueeze(1).bmm(matrix).squeeze(1)
    if attention.dim() == 3 and matrix.dim() == 3:
        return attention.bmm(matrix)
    raise ValueError("unsupported shapes")


def replace_masked_values(tensor, mask, replace_with):
    if tensor.dim() != mask.dim():
        raise ValueError(f"tensor.dim() ({tensor.dim()}) != mask.dim() ({mask.dim()})")
    return tensor.masked_fill(~mask, replace_with)


def get_best_span(span_start_logits, span_end_logits):
    if span_start_logits.dim() != 2 or span_end_logits.dim() != 2:
        raise ValueError("Input shapes must be (batch_size, passage_length)")
    batch_size, passage_length = span_start_logits.size()
    device = span_start_logits.device
    # (batch_size, passage_length, passage_length)
    span_log_probs = span_start_logits.unsqueeze(2) + span_end_logits.unsqueeze(1)
    # Only the upper triangle of the span matrix is valid; the lower triangle has entries where
    # the span ends before it starts.
    span_log_mask = torch.triu(torch.ones((passage_length, passage_length), device=device)).log()
    valid_span_log_probs = span_log_probs + span_log_mask
    # Here we take the span matrix and flatten it, then find the best span using argmax.
    best_spans = valid_span_log_probs.view(batch_size, -1).argmax(-1)
    span_start_indices = torch.div(best_spans, passage_length, rounding_mode="trunc")
    span_end_indices = torch.fmod(best_spans, passage_length)
    return torch.stack([span_start_indices, span_end_indices], dim=-1)


class Highway(nn.Module):
    def __init__(self, dim, num_layers=2):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(dim, 2 * dim) for _ in range(num_layers)])

    def forward(self, x):
        for layer in self.layers:
            nonlinear, gate = layer(x).chunk(2, dim=-1)
            gate = torch.sigmoid(gate)
            x = gate * x + (1 - gate) * F.relu(nonlinear)
        return x


class PackedBiLSTM(nn.Module):
    def __init__(self, input_dim, hidden):
        super().__init__()
        self.lstm = nn.LSTM(input_dim, hidden, batch_first=True, bidirectional=True)

    def forward(self, x, mask):
        lengths = mask.sum(-1).cpu()
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
        return out


class LinearMatrixAttention(nn.Module):
    """similarity(x, y) = w · [x; y; x * y] + b, for every pair (combination "x,y,x*y")."""

    def __init__(self, dim):
        super().__init__()
        self._weight_vector = nn.Parameter(torch.empty(3 * dim))
        self._bias = nn.Parameter(torch.tensor(0.0))
        std = (6 / (3 * dim + 1)) ** 0.5
        self._weight_vector.data.uniform_(-std, std)

    def forward(self, matrix_1, matrix_2):
        w1, w2, w12 = self._weight_vector.chunk(3)
        part1 = (matrix_1 @ w1).unsqueeze(2)
        part2 = (matrix_2 @ w2).unsqueeze(1)
        part12 = torch.einsum("bid,d,bjd->bij", matrix_1, w12, matrix_2)
        return part1 + part2 + part12 + self._bias


class BidirectionalAttentionFlow(nn.Module):
    def __init__(self, vocab, dim=12, hidden=8):
        super().__init__()
        self._text_field_embedder = nn.Embedding(vocab, dim, padding_idx=0)
        self._highway_layer = Highway(dim)
        self._phrase_layer = PackedBiLSTM(dim, hidden)
        self._matrix_attention = LinearMatrixAttention(2 * hidden)
        self._modeling_layer = PackedBiLSTM(8 * hidden, hidden)
        self._span_end_encoder = PackedBiLSTM(8 * hidden + 3 * 2 * hidden, hidden)
        self._span_start_predictor = nn.Linear(10 * hidden, 1)
        self._span_end_predictor = nn.Linear(10 * hidden, 1)

    def forward(self, question, passage, span_start=None, span_end=None):
        embedded_question = self._highway_layer(self._text_field_embedder(question))
        embedded_passage = self._highway_layer(self._text_field_embedder(passage))
        batch_size = embedded_question.size(0)
        passage_length = embedded_passage.size(1)
        question_mask = question != 0
        passage_mask = passage != 0
        encoded_question = self._phrase_layer(embedded_question, question_mask)
        encoded_passage = self._phrase_layer(embedded_passage, passage_mask)
        encoding_dim = encoded_question.size(-1)
        # Shape: (batch_size, passage_length, question_length)
        passage_question_similarity = self._matrix_attention(encoded_passage, encoded_question)
        passage_question_attention = masked_softmax(passage_question_similarity, question_mask)
        passage_question_vectors = weighted_sum(encoded_question, passage_question_attention)
        # We replace masked values with something really negative here, so they don't affect
        # the max below.
        masked_similarity = replace_masked_values(
            passage_question_similarity, question_mask.unsqueeze(1), -1e7
        )
        question_passage_similarity = masked_similarity.max(dim=-1)[0].squeeze(-1)
        question_passage_attention = masked_softmax(question_passage_similarity, passage_mask)
        question_passage_vector = weighted_sum(encoded_passage, question_passage_attention)
        tiled_question_passage_vector = question_passage_vector.unsqueeze(1).expand(
            batch_size, passage_length, encoding_dim
        )
        final_merged_passage = torch.cat(
            [
                encoded_passage,
                passage_question_vectors,
                encoded_passage * passage_question_vectors,
                encoded_passage * tiled_question_passage_vector,
            ],
            dim=-1,
        )
        modeled_passage = self._modeling_layer(final_merged_passage, passage_mask)
        modeling_dim = modeled_passage.size(-1)
        span_start_input = torch.cat([final_merged_passage, modeled_passage], dim=-1)
        span_start_logits = self._span_start_predictor(span_start_input).squeeze(-1)
        span_start_probs = masked_softmax(span_start_logits, passage_mask)
        span_start_representation = weighted_sum(modeled_passage, span_start_probs)
        tiled_start_representation = span_start_representation.unsqueeze(1).expand(
            batch_size, passage_length, modeling_dim
        )
        span_end_representation = torch.cat(
            [
                final_merged_passage,
                modeled_passage,
                tiled_start_representation,
                modeled_passage * tiled_start_representation,
            ],
            dim=-1,
        )
        encoded_span_end = self._span_end_encoder(span_end_representation, passage_mask)
        span_end_input = torch.cat([final_merged_passage, encoded_span_end], dim=-1)
        span_end_logits = self._span_end_predictor(span_end_input).squeeze(-1)
        span_start_logits = replace_masked_values(span_start_logits, passage_mask, -1e7)
        span_end_logits = replace_masked_values(span_end_logits, passage_mask, -1e7)
        output_dict = {
            "passage_question_attention": passage_question_attention,
            "span_start_logits": span_start_logits,
            "span_end_logits": span_end_logits,
            "best_span": get_best_span(span_start_logits, span_end_logits),
        }
        if span_start is not None:
            loss = F.nll_loss(
                masked_log_softmax(span_start_logits, passage_mask), span_start.squeeze(-1)
            )
            loss = loss + F.nll_loss(
                masked_log_softmax(span_end_logits, passage_mask), span_end.squeeze(-1)
            )
            output_dict["loss"] = loss
        return output_dict


# passages of random words; the question is two consecutive passage words, the answer the two
# words after them
vocab = 20
B = 16
passage_lengths = torch.randint(7, 11, (B,))
passage = torch.randint(3, vocab, (B, 10)) * (torch.arange(10) < passage_lengths[:, None])
starts = (torch.rand(B) * (passage_lengths - 4).float()).long()
question = torch.stack([passage[torch.arange(B), starts], passage[torch.arange(B), starts + 1]], 1)
question = torch.cat([question, torch.zeros(B, 1, dtype=torch.long)], 1)  # one pad column
question[::3, 2] = 1  # a "?" token on some rows
span_start, span_end = starts + 2, starts + 3

best = get_best_span(
    torch.tensor([[0.0, 2.0, 1.0], [3.0, 0.0, 0.0]]),
    torch.tensor([[5.0, 0.0, 1.0], [0.0, 0.0, 2.0]]),
)
best_demo = [best.tolist(), str(best.dtype)]
try:
    replace_masked_values(torch.zeros(2, 3), torch.ones(2, 3, 1, dtype=torch.bool), 0.0)
except ValueError as e:
    mask_error = str(e)

model = BidirectionalAttentionFlow(vocab)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
losses, exact = [], []
for epoch in range(30):
    model.train()
    out = model(question, passage, span_start, span_end)
    optimizer.zero_grad()
    out["loss"].backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()
    losses.append(out["loss"].item())
    exact.append(
        (out["best_span"] == torch.stack([span_start, span_end], -1)).all(-1).float().mean().item()
    )
attention_rows = out["passage_question_attention"][0].sum(-1).tolist()
masked_question_weight = out["passage_question_attention"][1:3, :, 2].abs().max().item()
