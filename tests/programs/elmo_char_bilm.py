"""ELMo (Peters et al. 2018) as AllenNLP writes it: ``ELMoCharacterMapper`` turning words into
UTF-8 byte ids with begin/end-of-word markers (+1 so that 0 pads), ``add_sentence_boundary_token_ids``
(``new_zeros``, per-row writes at NumPy-integer positions), the ``_ElmoCharacterEncoder`` (a
character embedding, Conv1d filters of several widths, max over characters, ``Highway`` layers
whose gate biases start at 1 through ``layer.bias[input_dim:].data.fill_(1)``, a projection),
a bidirectional language model (a forward and a backward LSTM over packed sequences predicting
the next and the previous word) and ``ScalarMix`` (softmax-normalised layer weights split with
``torch.split``, ``gamma``) feeding a tagger trained on the frozen biLM's representations."""

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.manual_seed(0)
rng = np.random.default_rng(1)


class ELMoCharacterMapper:
    max_word_length = 10
    beginning_of_sentence_character = 256  # <begin sentence>
    end_of_sentence_character = 257  # <end sentence>
    beginning_of_word_character = 258  # <begin word>
    end_of_word_character = 259  # <end word>
    padding_character = 260  # <padding>

    @staticmethod
    def _make_bos_eos(character):
        char_ids = [ELMoCharacterMapper.padding_character] * ELMoCharacterMapper.max_word_length
        char_ids[0] = ELMoCharacterMapper.beginning_of_word_character
        char_ids[1] = character
        char_ids[2] = ELMoCharacterMapper.end_of_word_character
        return char_ids

    @staticmethod
    def convert_word_to_char_ids(word):
        char_ids = [ELMoCharacterMapper.padding_character] * ELMoCharacterMapper.max_word_length
        word_encoded = word.encode("utf-8", "ignore")[: (ELMoCharacterMapper.max_word_length - 2)]
        char_ids[0] = ELMoCharacterMapper.beginning_of_word_character
        for k, chr_id in enumerate(word_encoded, start=1):
            char_ids[k] = chr_id
        char_ids[len(word_encoded) + 1] = ELMoCharacterMapper.end_of_word_character
        # +1 one for masking
        return [c + 1 for c in char_ids]


ELMoCharacterMapper.beginning_of_sentence_characters = ELMoCharacterMapper._make_bos_eos(256)
ELMoCharacterMapper.end_of_sentence_characters = ELMoCharacterMapper._make_bos_eos(257)


def add_sentence_boundary_token_ids(tensor, mask, sentence_begin_token, sentence_end_token):
    sequence_lengths = mask.sum(dim=1).detach().cpu().numpy()
    tensor_shape = list(tensor.data.shape)
    new_shape = list(tensor_shape)
    new_shape[1] = tensor_shape[1] + 2
    tensor_with_boundary_tokens = tensor.new_zeros(*new_shape, device=tensor.device)
    tensor_with_boundary_tokens[:, 1:-1, :] = tensor
    for i, j in enumerate(sequence_lengths):
        tensor_with_boundary_tokens[i, 0, :] = sentence_begin_token
        tensor_with_boundary_tokens[i, j + 1, :] = sentence_end_token
    new_mask = ((tensor_with_boundary_tokens > 0).long().sum(dim=-1) > 0).long()
    return tensor_with_boundary_tokens, new_mask


class Highway(torch.nn.Module):
    def __init__(self, input_dim, num_layers=1, activation=torch.nn.functional.relu):
        super().__init__()
        self._input_dim = input_dim
        self._layers = torch.nn.ModuleList(
            [torch.nn.Linear(input_dim, input_dim * 2) for _ in range(num_layers)]
        )
        self._activation = activation
        for layer in self._layers:
            # We should bias the highway layer to just carry its input forward.
            layer.bias[input_dim:].data.fill_(1)

    def forward(self, inputs):
        current_input = inputs
        for layer in self._layers:
            projected_input = layer(current_input)
            linear_part = current_input
            nonlinear_part, gate = projected_input.chunk(2, dim=-1)
            nonlinear_part = self._activation(nonlinear_part)
            gate = torch.sigmoid(gate)
            current_input = gate * linear_part + (1 - gate) * nonlinear_part
        return current_input


class ElmoCharacterEncoder(torch.nn.Module):
    def __init__(self, filters=((1, 4), (2, 8), (3, 8)), char_dim=4, n_highway=2, output_dim=16):
        super().__init__()
        self._beginning_of_sentence_characters = torch.from_numpy(
            np.array(ELMoCharacterMapper.beginning_of_sentence_characters) + 1
        )
        self._end_of_sentence_characters = torch.from_numpy(
            np.array(ELMoCharacterMapper.end_of_sentence_characters) + 1
        )
        weights = np.zeros((262, char_dim), dtype="float32")
        weights[1:, :] = rng.uniform(-1, 1, (261, char_dim))  # row 0: padding stays zero
        self._char_embedding_weights = torch.nn.Parameter(torch.FloatTensor(weights))
        self._convolutions = []
        for i, (width, num) in enumerate(filters):
            conv = torch.nn.Conv1d(
                in_channels=char_dim, out_channels=num, kernel_size=width, bias=True
            )
            self._convolutions.append(conv)
            self.add_module("char_conv_{}".format(i), conv)
        n_filters = sum(f[1] for f in filters)
        self._highways = Highway(n_filters, n_highway, activation=torch.nn.functional.relu)
        self._projection = torch.nn.Linear(n_filters, output_dim, bias=True)

    def forward(self, inputs):
        mask = (inputs > 0).sum(dim=-1) > 0
        character_ids_with_bos_eos, mask_with_bos_eos = add_sentence_boundary_token_ids(
            inputs, mask, self._beginning_of_sentence_characters, self._end_of_sentence_characters
        )
        max_chars_per_token = ELMoCharacterMapper.max_word_length
        character_embedding = torch.nn.functional.embedding(
            character_ids_with_bos_eos.view(-1, max_chars_per_token), self._char_embedding_weights
        )
        activation = torch.nn.functional.relu
        # (batch_size * sequence_length, embed_dim, max_chars_per_token)
        character_embedding = torch.transpose(character_embedding, 1, 2)
        convs = []
        for i in range(len(self._convolutions)):
            conv = getattr(self, "char_conv_{}".format(i))
            convolved = conv(character_embedding)
            # (batch_size * sequence_length, n_filters for this width)
            convolved, _ = torch.max(convolved, dim=-1)
            convolved = activation(convolved)
            convs.append(convolved)
        token_embedding = torch.cat(convs, dim=-1)
        token_embedding = self._highways(token_embedding)
        token_embedding = self._projection(token_embedding)
        batch_size, sequence_length, _ = character_ids_with_bos_eos.size()
        return {
            "mask": mask_with_bos_eos,
            "token_embedding": token_embedding.view(batch_size, sequence_length, -1),
        }


class BidirectionalLM(torch.nn.Module):
    def __init__(self, vocab_size, dim=16, hidden=16):
        super().__init__()
        self.char_encoder = ElmoCharacterEncoder(output_dim=dim)
        self.forward_lstm = torch.nn.LSTM(dim, hidden, batch_first=True)
        self.backward_lstm = torch.nn.LSTM(dim, hidden, batch_first=True)
        self.softmax = torch.nn.Linear(hidden, vocab_size)  # shared by both directions

    def forward(self, chars):
        encoded = self.char_encoder(chars)
        x, mask = encoded["token_embedding"], encoded["mask"]
        lengths = mask.sum(1)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        fwd, _ = pad_packed_sequence(
            self.forward_lstm(packed)[0], batch_first=True, total_length=x.size(1)
        )
        reversed_x = torch.stack(
            [torch.cat([row[:n].flip(0), row[n:]]) for row, n in zip(x, lengths)]
        )
        packed = pack_padded_sequence(reversed_x, lengths, batch_first=True, enforce_sorted=False)
        bwd, _ = pad_packed_sequence(
            self.backward_lstm(packed)[0], batch_first=True, total_length=x.size(1)
        )
        bwd = torch.stack([torch.cat([row[:n].flip(0), row[n:]]) for row, n in zip(bwd, lengths)])
        return x, fwd, bwd, mask


class ScalarMix(torch.nn.Module):
    def __init__(self, mixture_size, initial_scalar_parameters=None, trainable=True):
        super().__init__()
        self.mixture_size = mixture_size
        if initial_scalar_parameters is None:
            initial_scalar_parameters = [0.0] * mixture_size
        self.scalar_parameters = torch.nn.ParameterList(
            [
                torch.nn.Parameter(
                    torch.FloatTensor([initial_scalar_parameters[i]]), requires_grad=trainable
                )
                for i in range(mixture_size)
            ]
        )
        self.gamma = torch.nn.Parameter(torch.FloatTensor([1.0]), requires_grad=trainable)

    def forward(self, tensors):
        normed_weights = torch.nn.functional.softmax(
            torch.cat([parameter for parameter in self.scalar_parameters]), dim=0
        )
        normed_weights = torch.split(normed_weights, split_size_or_sections=1)
        pieces = []
        for weight, tensor in zip(normed_weights, tensors):
            pieces.append(weight * tensor)
        return self.gamma * sum(pieces)


# a toy corpus: the/a + adjective* + noun + verb (+ adverb)
words = [
    "<S>",
    "</S>",
    "the",
    "a",
    "big",
    "red",
    "cat",
    "dog",
    "runs",
    "sleeps",
    "fast",
    "cats",
    "dogs",
]
index = {w: i for i, w in enumerate(words)}


def sentence():
    s = [str(rng.choice(["the", "a"]))] + [
        str(w) for w in rng.choice(["big", "red"], int(rng.integers(0, 3)))
    ]
    s += [str(rng.choice(["cat", "dog", "cats", "dogs"])), str(rng.choice(["runs", "sleeps"]))]
    return s + (["fast"] if rng.random() < 0.5 else [])


sentences = [sentence() for _ in range(16)]
longest = max(len(s) for s in sentences)
chars = torch.zeros(16, longest, ELMoCharacterMapper.max_word_length, dtype=torch.long)
for i, s in enumerate(sentences):
    for j, w in enumerate(s):
        chars[i, j] = torch.tensor(ELMoCharacterMapper.convert_word_to_char_ids(w))
word_ids = torch.zeros(16, longest + 2, dtype=torch.long)
for i, s in enumerate(sentences):
    word_ids[i, : len(s) + 2] = torch.tensor([0] + [index[w] for w in s] + [1])

highway = Highway(6, 2)
gate_biases = [layer.bias[6:].tolist() for layer in highway._layers]
boundary, boundary_mask = add_sentence_boundary_token_ids(
    chars[:2], (chars[:2] > 0).sum(-1) > 0, torch.arange(10), torch.arange(10, 20)
)
boundary_summary = [tuple(boundary.shape), boundary_mask.sum(1).tolist(), boundary[0, 0].tolist()]

lm = BidirectionalLM(len(words))
optimizer = torch.optim.Adagrad(lm.parameters(), lr=0.1)
losses = []
for step in range(20):
    x, fwd, bwd, mask = lm(chars)
    valid = mask.bool()
    fwd_logits = lm.softmax(fwd[:, :-1])  # position t predicts t + 1
    bwd_logits = lm.softmax(bwd[:, 1:])  # position t predicts t - 1
    fwd_loss = F.cross_entropy(fwd_logits[valid[:, 1:]], word_ids[:, 1:][valid[:, 1:]])
    bwd_loss = F.cross_entropy(bwd_logits[valid[:, :-1]], word_ids[:, :-1][valid[:, :-1]])
    loss = 0.5 * (fwd_loss + bwd_loss)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(lm.parameters(), 5.0)
    optimizer.step()
    losses.append([fwd_loss.item(), bwd_loss.item()])

# downstream: tag plural nouns with the frozen biLM's layers mixed by ScalarMix
lm.requires_grad_(False)
tags = torch.tensor(
    [
        [0] + [int(w in ("cats", "dogs")) for w in s] + [0] * (longest - len(s) + 1)
        for s in sentences
    ]
)
mix = ScalarMix(2)
tagger = torch.nn.Linear(32, 2)
tag_optimizer = torch.optim.Adam(list(mix.parameters()) + list(tagger.parameters()), lr=0.02)
with torch.no_grad():
    x, fwd, bwd, mask = lm(chars)
layers = [torch.cat([x, x], dim=-1), torch.cat([fwd, bwd], dim=-1)]
tag_losses = []
for step in range(15):
    logits = tagger(mix(layers))
    tag_loss = F.cross_entropy(logits[mask.bool()], tags[mask.bool()])
    tag_optimizer.zero_grad()
    tag_loss.backward()
    tag_optimizer.step()
    tag_losses.append(tag_loss.item())
mix_weights = F.softmax(torch.cat(list(mix.scalar_parameters)), dim=0).tolist() + [mix.gamma.item()]
