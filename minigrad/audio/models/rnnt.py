"""torchaudio.models.RNNT (the recurrent neural network transducer of Graves, 2012, as
torchaudio builds it): a transcriber (an :class:`~.emformer.Emformer` encoder after a linear
layer and time reduction), a predictor (embedding, layer-normed custom LSTMs) and a joiner
(sum, activation, linear), with the ``emformer_rnnt_model`` / ``emformer_rnnt_base``
factories. torchaudio's module names, so its state_dicts load; no pretrained weights
(torchaudio's come through ``pipelines``). Its loss is :func:`~minigrad.audio.functional.rnnt_loss`."""

from __future__ import annotations

import minigrad as torch
from minigrad import nn

from .emformer import Emformer


class _TimeReduction(nn.Module):
    """Stack ``stride`` consecutive frames: ``(B, T, D)`` -> ``(B, T // stride, D * stride)``
    (the last ``T % stride`` frames dropped), lengths divided by ``stride``."""

    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, input, lengths):
        batch, frames, dim = input.shape
        kept = frames - frames % self.stride
        output = input[:, :kept, :].reshape(batch, kept // self.stride, dim * self.stride)
        return output.contiguous(), lengths.div(self.stride, rounding_mode="trunc")


class _CustomLSTM(nn.Module):
    """An LSTM over ``(T, B, D)`` with optional layer norm of the gates and the cell
    (``x2g``/``p2g`` projections, torchaudio's names); state ``[h, c]``."""

    def __init__(self, input_dim, hidden_dim, layer_norm=False, layer_norm_epsilon=1e-5):
        super().__init__()
        self.x2g = nn.Linear(input_dim, 4 * hidden_dim, bias=not layer_norm)
        self.p2g = nn.Linear(hidden_dim, 4 * hidden_dim, bias=False)
        if layer_norm:
            self.c_norm = nn.LayerNorm(hidden_dim, eps=layer_norm_epsilon)
            self.g_norm = nn.LayerNorm(4 * hidden_dim, eps=layer_norm_epsilon)
        else:
            self.c_norm, self.g_norm = nn.Identity(), nn.Identity()
        self.hidden_dim = hidden_dim

    def forward(self, input, state):
        if state is None:
            h = input.new_zeros(input.size(1), self.hidden_dim)
            c = input.new_zeros(input.size(1), self.hidden_dim)
        else:
            h, c = state
        outputs = []
        for gates in self.x2g(input).unbind(0):
            gates = self.g_norm(gates + self.p2g(h))
            i, f, g, o = gates.chunk(4, 1)
            c = self.c_norm(f.sigmoid() * c + i.sigmoid() * g.tanh())
            h = o.sigmoid() * c.tanh()
            outputs.append(h)
        return torch.stack(outputs, dim=0), [h, c]


class _EmformerEncoder(nn.Module):
    """Linear, time reduction, Emformer, linear, layer norm; ``forward`` on whole
    utterances, ``infer`` segment by segment with states."""

    def __init__(self, *, input_dim, output_dim, segment_length, right_context_length,
                 time_reduction_input_dim, time_reduction_stride, transformer_num_heads,
                 transformer_ffn_dim, transformer_num_layers, transformer_left_context_length,
                 transformer_dropout=0.0, transformer_activation="relu",
                 transformer_max_memory_size=0, transformer_weight_init_scale_strategy="depthwise",
                 transformer_tanh_on_mem=False):  # fmt: skip
        super().__init__()
        self.input_linear = nn.Linear(input_dim, time_reduction_input_dim, bias=False)
        self.time_reduction = _TimeReduction(time_reduction_stride)
        width = time_reduction_input_dim * time_reduction_stride
        self.transformer = Emformer(
            width, transformer_num_heads, transformer_ffn_dim, transformer_num_layers,
            segment_length // time_reduction_stride, dropout=transformer_dropout,
            activation=transformer_activation,
            left_context_length=transformer_left_context_length,
            right_context_length=right_context_length // time_reduction_stride,
            max_memory_size=transformer_max_memory_size,
            weight_init_scale_strategy=transformer_weight_init_scale_strategy,
            tanh_on_mem=transformer_tanh_on_mem,
        )  # fmt: skip
        self.output_linear = nn.Linear(width, output_dim)
        self.layer_norm = nn.LayerNorm(output_dim)

    def forward(self, input, lengths):
        reduced, reduced_lengths = self.time_reduction(self.input_linear(input), lengths)
        out, out_lengths = self.transformer(reduced, reduced_lengths)
        return self.layer_norm(self.output_linear(out)), out_lengths

    def infer(self, input, lengths, states):
        reduced, reduced_lengths = self.time_reduction(self.input_linear(input), lengths)
        out, out_lengths, states = self.transformer.infer(reduced, reduced_lengths, states)
        return self.layer_norm(self.output_linear(out)), out_lengths, states


class _Predictor(nn.Module):
    """The label encoder: embedding, layer norm, ``num_lstm_layers`` custom LSTMs (dropout
    after each), linear, layer norm; ``(B, U)`` tokens -> ``(B, U, output_dim)``."""

    def __init__(self, num_symbols, output_dim, symbol_embedding_dim, num_lstm_layers,
                 lstm_hidden_dim, lstm_layer_norm=False, lstm_layer_norm_epsilon=1e-5,
                 lstm_dropout=0.0):  # fmt: skip
        super().__init__()
        self.embedding = nn.Embedding(num_symbols, symbol_embedding_dim)
        self.input_layer_norm = nn.LayerNorm(symbol_embedding_dim)
        self.lstm_layers = nn.ModuleList(
            _CustomLSTM(symbol_embedding_dim if i == 0 else lstm_hidden_dim, lstm_hidden_dim,
                        layer_norm=lstm_layer_norm, layer_norm_epsilon=lstm_layer_norm_epsilon)
            for i in range(num_lstm_layers)
        )  # fmt: skip
        self.dropout = nn.Dropout(p=lstm_dropout)
        self.linear = nn.Linear(lstm_hidden_dim, output_dim)
        self.output_layer_norm = nn.LayerNorm(output_dim)
        self.lstm_dropout = lstm_dropout

    def forward(self, input, lengths, state=None):
        out = self.input_layer_norm(self.embedding(input.permute(1, 0)))
        state_out = []
        for i, lstm in enumerate(self.lstm_layers):
            out, layer_state = lstm(out, None if state is None else state[i])
            out = self.dropout(out)
            state_out.append(layer_state)
        out = self.output_layer_norm(self.linear(out))
        return out.permute(1, 0, 2), lengths, state_out


class _Joiner(nn.Module):
    """``linear(activation(source[:, :, None] + target[:, None]))``: ``(B, T, U, classes)``."""

    def __init__(self, input_dim, output_dim, activation="relu"):
        super().__init__()
        self.linear = nn.Linear(input_dim, output_dim, bias=True)
        if activation not in ("relu", "tanh"):
            raise ValueError(f"Unsupported activation {activation}")
        self.activation = nn.ReLU() if activation == "relu" else nn.Tanh()

    def forward(self, source_encodings, source_lengths, target_encodings, target_lengths):
        joint = (
            source_encodings.unsqueeze(2).contiguous() + target_encodings.unsqueeze(1).contiguous()
        )
        return self.linear(self.activation(joint)), source_lengths, target_lengths


class RNNT(nn.Module):
    """Transcriber + predictor + joiner. ``forward(sources, source_lengths, targets,
    target_lengths, predictor_state=None)`` gives the joint logits ``(B, T, U, classes)``
    for :func:`~minigrad.audio.functional.rnnt_loss`; ``transcribe``/``transcribe_streaming``,
    ``predict`` and ``join`` are the pieces a decoder calls."""

    def __init__(self, transcriber, predictor, joiner):
        super().__init__()
        self.transcriber, self.predictor, self.joiner = transcriber, predictor, joiner

    def forward(self, sources, source_lengths, targets, target_lengths, predictor_state=None):
        source_encodings, source_lengths = self.transcriber(input=sources, lengths=source_lengths)
        target_encodings, target_lengths, predictor_state = self.predictor(
            input=targets, lengths=target_lengths, state=predictor_state
        )
        output, source_lengths, target_lengths = self.joiner(
            source_encodings, source_lengths, target_encodings, target_lengths
        )
        return output, source_lengths, target_lengths, predictor_state

    def transcribe_streaming(self, sources, source_lengths, state):
        """One segment through the transcriber's ``infer``: ``(encodings, lengths, state)``."""
        return self.transcriber.infer(sources, source_lengths, state)

    def transcribe(self, sources, source_lengths):
        """Whole utterances through the transcriber: ``(encodings, lengths)``."""
        return self.transcriber(sources, source_lengths)

    def predict(self, targets, target_lengths, state):
        """Tokens through the predictor: ``(encodings, lengths, state)``."""
        return self.predictor(input=targets, lengths=target_lengths, state=state)

    def join(self, source_encodings, source_lengths, target_encodings, target_lengths):
        """The joiner: ``(logits, source_lengths, target_lengths)``."""
        return self.joiner(source_encodings, source_lengths, target_encodings, target_lengths)


def emformer_rnnt_model(*, input_dim, encoding_dim, num_symbols, segment_length,
                        right_context_length, time_reduction_input_dim, time_reduction_stride,
                        transformer_num_heads, transformer_ffn_dim, transformer_num_layers,
                        transformer_dropout, transformer_activation,
                        transformer_left_context_length, transformer_max_memory_size,
                        transformer_weight_init_scale_strategy, transformer_tanh_on_mem,
                        symbol_embedding_dim, num_lstm_layers, lstm_layer_norm,
                        lstm_layer_norm_epsilon, lstm_dropout):  # fmt: skip
    """An Emformer-transducer :class:`RNNT` (torchaudio's keyword-only factory)."""
    encoder = _EmformerEncoder(
        input_dim=input_dim, output_dim=encoding_dim, segment_length=segment_length,
        right_context_length=right_context_length,
        time_reduction_input_dim=time_reduction_input_dim,
        time_reduction_stride=time_reduction_stride, transformer_num_heads=transformer_num_heads,
        transformer_ffn_dim=transformer_ffn_dim, transformer_num_layers=transformer_num_layers,
        transformer_dropout=transformer_dropout, transformer_activation=transformer_activation,
        transformer_left_context_length=transformer_left_context_length,
        transformer_max_memory_size=transformer_max_memory_size,
        transformer_weight_init_scale_strategy=transformer_weight_init_scale_strategy,
        transformer_tanh_on_mem=transformer_tanh_on_mem,
    )  # fmt: skip
    predictor = _Predictor(
        num_symbols, encoding_dim, symbol_embedding_dim=symbol_embedding_dim,
        num_lstm_layers=num_lstm_layers, lstm_hidden_dim=symbol_embedding_dim,
        lstm_layer_norm=lstm_layer_norm, lstm_layer_norm_epsilon=lstm_layer_norm_epsilon,
        lstm_dropout=lstm_dropout,
    )  # fmt: skip
    return RNNT(encoder, predictor, _Joiner(encoding_dim, num_symbols))


def emformer_rnnt_base(num_symbols):
    """torchaudio's base Emformer transducer (80 mels in, 20 layers, 1024-wide encodings,
    the configuration of its LibriSpeech streaming recipe)."""
    return emformer_rnnt_model(
        input_dim=80, encoding_dim=1024, num_symbols=num_symbols, segment_length=16,
        right_context_length=4, time_reduction_input_dim=128, time_reduction_stride=4,
        transformer_num_heads=8, transformer_ffn_dim=2048, transformer_num_layers=20,
        transformer_dropout=0.1, transformer_activation="gelu",
        transformer_left_context_length=30, transformer_max_memory_size=0,
        transformer_weight_init_scale_strategy="depthwise", transformer_tanh_on_mem=True,
        symbol_embedding_dim=512, num_lstm_layers=3, lstm_layer_norm=True,
        lstm_layer_norm_epsilon=1e-3, lstm_dropout=0.3,
    )  # fmt: skip
