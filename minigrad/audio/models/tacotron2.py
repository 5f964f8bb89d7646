"""torchaudio.models.Tacotron2 (Shen et al., 2018, NVIDIA's variant torchaudio ships): text
to mel spectrogram. A conv + BiLSTM :class:`_Encoder` over symbol embeddings, an
autoregressive :class:`_Decoder` (prenet with always-on dropout, attention LSTM,
location-sensitive :class:`_Attention`, decoder LSTM, mel and stop-gate projections) and a
residual conv :class:`_Postnet`. torchaudio's module names, initialization (Xavier with the
layer's gain) and dropout draws, so its state_dicts load and, under one seed, the outputs are
torchaudio's. No pretrained weights (torchaudio's come through ``pipelines``)."""

from __future__ import annotations

import minigrad as torch
from minigrad import nn
from minigrad.nn import functional as F

from ..._warnings import warn_user


def _linear(in_dim, out_dim, bias=True, w_init_gain="linear"):
    """``nn.Linear`` with Xavier-uniform weights scaled by ``w_init_gain``'s gain."""
    linear = nn.Linear(in_dim, out_dim, bias=bias)
    nn.init.xavier_uniform_(linear.weight, gain=nn.init.calculate_gain(w_init_gain))
    return linear


def _conv1d(
    in_channels, out_channels, kernel_size=1, padding=None, bias=True, w_init_gain="linear"
):
    """``nn.Conv1d`` (stride 1, "same" padding for odd kernels) with Xavier-uniform weights."""
    if padding is None:
        if kernel_size % 2 != 1:
            raise ValueError("kernel_size must be odd")
        padding = (kernel_size - 1) // 2
    conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=padding, bias=bias)
    nn.init.xavier_uniform_(conv.weight, gain=nn.init.calculate_gain(w_init_gain))
    return conv


def _padding_mask(lengths):
    """``(batch, max(lengths))``, True past each length."""
    ids = torch.arange(0, int(lengths.max()), device=lengths.device, dtype=lengths.dtype)
    return ids >= lengths.unsqueeze(1)


class _LocationLayer(nn.Module):
    """Features of the previous and cumulative attention weights: a conv, then a projection."""

    def __init__(self, attention_n_filter, attention_kernel_size, attention_hidden_dim):
        super().__init__()
        padding = (attention_kernel_size - 1) // 2
        self.location_conv = _conv1d(2, attention_n_filter, attention_kernel_size, padding, False)
        self.location_dense = _linear(attention_n_filter, attention_hidden_dim, False, "tanh")

    def forward(self, attention_weights_cat):
        return self.location_dense(self.location_conv(attention_weights_cat).transpose(1, 2))


class _Attention(nn.Module):
    """Location-sensitive additive attention over the encoder's outputs (``memory``)."""

    def __init__(self, attention_rnn_dim, encoder_embedding_dim, attention_hidden_dim,
                 attention_location_n_filter, attention_location_kernel_size):  # fmt: skip
        super().__init__()
        self.query_layer = _linear(attention_rnn_dim, attention_hidden_dim, False, "tanh")
        self.memory_layer = _linear(encoder_embedding_dim, attention_hidden_dim, False, "tanh")
        self.v = _linear(attention_hidden_dim, 1, bias=False)
        self.location_layer = _LocationLayer(
            attention_location_n_filter, attention_location_kernel_size, attention_hidden_dim
        )
        self.score_mask_value = -float("inf")

    def forward(self, query, memory, processed_memory, attention_weights_cat, mask):
        energies = self.v(
            torch.tanh(
                self.query_layer(query.unsqueeze(1))
                + self.location_layer(attention_weights_cat)
                + processed_memory
            )
        ).squeeze(2)
        weights = F.softmax(energies.masked_fill(mask, self.score_mask_value), dim=1)
        return torch.bmm(weights.unsqueeze(1), memory).squeeze(1), weights


class _Prenet(nn.Module):
    """Linear + ReLU layers, each followed by dropout 0.5 that stays on at inference."""

    def __init__(self, in_dim, out_sizes):
        super().__init__()
        in_sizes = [in_dim] + list(out_sizes[:-1])
        self.layers = nn.ModuleList(
            [_linear(i, o, bias=False) for i, o in zip(in_sizes, out_sizes)]
        )

    def forward(self, x):
        for linear in self.layers:
            x = F.dropout(F.relu(linear(x)), p=0.5, training=True)
        return x


class _Postnet(nn.Module):
    """``postnet_n_convolution`` conv + batch norm layers (tanh between, dropout 0.5 in
    training) predicting a residual for the decoder's mel spectrogram."""

    def __init__(self, n_mels, postnet_embedding_dim, postnet_kernel_size, postnet_n_convolution):
        super().__init__()
        self.convolutions = nn.ModuleList()
        for i in range(postnet_n_convolution):
            last = i == postnet_n_convolution - 1
            in_channels = n_mels if i == 0 else postnet_embedding_dim
            out_channels = n_mels if last else postnet_embedding_dim
            conv = _conv1d(in_channels, out_channels, postnet_kernel_size,
                           (postnet_kernel_size - 1) // 2, w_init_gain="linear" if last else "tanh")  # fmt: skip
            self.convolutions.append(nn.Sequential(conv, nn.BatchNorm1d(out_channels)))
        self.n_convs = len(self.convolutions)

    def forward(self, x):
        for i, conv in enumerate(self.convolutions):
            x = conv(x) if i == self.n_convs - 1 else torch.tanh(conv(x))
            x = F.dropout(x, 0.5, training=self.training)
        return x


class _Encoder(nn.Module):
    """Conv + batch norm + ReLU layers (dropout 0.5 in training), then a BiLSTM over the
    valid lengths (packed), giving ``(batch, time, encoder_embedding_dim)``."""

    def __init__(self, encoder_embedding_dim, encoder_n_convolution, encoder_kernel_size):
        super().__init__()
        self.convolutions = nn.ModuleList(
            nn.Sequential(
                _conv1d(
                    encoder_embedding_dim,
                    encoder_embedding_dim,
                    encoder_kernel_size,
                    (encoder_kernel_size - 1) // 2,
                    w_init_gain="relu",
                ),  # fmt: skip
                nn.BatchNorm1d(encoder_embedding_dim),
            )
            for _ in range(encoder_n_convolution)
        )
        self.lstm = nn.LSTM(encoder_embedding_dim, encoder_embedding_dim // 2, 1,
                            batch_first=True, bidirectional=True)  # fmt: skip

    def forward(self, x, input_lengths):
        for conv in self.convolutions:
            x = F.dropout(F.relu(conv(x)), 0.5, self.training)
        packed = nn.utils.rnn.pack_padded_sequence(x.transpose(1, 2), input_lengths.cpu(),
                                                   batch_first=True)  # fmt: skip
        outputs, _ = self.lstm(packed)
        return nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True)[0]


class _Decoder(nn.Module):
    """The autoregressive decoder: ``forward`` is teacher-forced on a target spectrogram,
    ``infer`` feeds back its own frames until the stop gate fires (or ``decoder_max_step``)."""

    def __init__(self, n_mels, n_frames_per_step, encoder_embedding_dim, decoder_rnn_dim,
                 decoder_max_step, decoder_dropout, decoder_early_stopping, attention_rnn_dim,
                 attention_hidden_dim, attention_location_n_filter,
                 attention_location_kernel_size, attention_dropout, prenet_dim,
                 gate_threshold):  # fmt: skip
        super().__init__()
        self.n_mels, self.n_frames_per_step = n_mels, n_frames_per_step
        self.encoder_embedding_dim = encoder_embedding_dim
        self.attention_rnn_dim, self.decoder_rnn_dim = attention_rnn_dim, decoder_rnn_dim
        self.prenet_dim, self.decoder_max_step = prenet_dim, decoder_max_step
        self.gate_threshold = gate_threshold
        self.attention_dropout, self.decoder_dropout = attention_dropout, decoder_dropout
        self.decoder_early_stopping = decoder_early_stopping
        self.prenet = _Prenet(n_mels * n_frames_per_step, [prenet_dim, prenet_dim])
        self.attention_rnn = nn.LSTMCell(prenet_dim + encoder_embedding_dim, attention_rnn_dim)
        self.attention_layer = _Attention(attention_rnn_dim, encoder_embedding_dim,
                                          attention_hidden_dim, attention_location_n_filter,
                                          attention_location_kernel_size)  # fmt: skip
        self.decoder_rnn = nn.LSTMCell(attention_rnn_dim + encoder_embedding_dim, decoder_rnn_dim)
        width = decoder_rnn_dim + encoder_embedding_dim
        self.linear_projection = _linear(width, n_mels * n_frames_per_step)
        self.gate_layer = _linear(width, 1, bias=True, w_init_gain="sigmoid")

    def _go_frame(self, memory):
        return memory.new_zeros(memory.size(0), self.n_mels * self.n_frames_per_step)

    def _initial_states(self, memory):
        """Zero LSTM states, attention weights and context, and the projected memory."""
        batch, time = memory.shape[:2]
        zeros = memory.new_zeros
        return [zeros(batch, self.attention_rnn_dim), zeros(batch, self.attention_rnn_dim),
                zeros(batch, self.decoder_rnn_dim), zeros(batch, self.decoder_rnn_dim),
                zeros(batch, time), zeros(batch, time), zeros(batch, self.encoder_embedding_dim),
                self.attention_layer.memory_layer(memory)]  # fmt: skip

    def _parse_decoder_outputs(self, mel_specgram, gate_outputs, alignments):
        """Stacked steps ``(steps, batch, ...)`` to ``(batch, n_mels, frames)``,
        ``(batch, steps)`` and ``(batch, steps, time)``."""
        alignments = alignments.transpose(0, 1).contiguous()
        gate_outputs = gate_outputs.transpose(0, 1).contiguous()
        mel_specgram = mel_specgram.transpose(0, 1).contiguous()
        mel_specgram = mel_specgram.view(mel_specgram.shape[0], -1, self.n_mels).transpose(1, 2)
        return mel_specgram, gate_outputs, alignments

    def decode(self, decoder_input, attention_hidden, attention_cell, decoder_hidden,
               decoder_cell, attention_weights, attention_weights_cum, attention_context,
               memory, processed_memory, mask):  # fmt: skip
        """One step: returns (mel frame(s), gate logit) and the updated states."""
        cell_input = torch.cat((decoder_input, attention_context), -1)
        attention_hidden, attention_cell = self.attention_rnn(
            cell_input, (attention_hidden, attention_cell)
        )
        attention_hidden = F.dropout(attention_hidden, self.attention_dropout, self.training)
        weights_cat = torch.cat(
            (attention_weights.unsqueeze(1), attention_weights_cum.unsqueeze(1)), 1
        )
        attention_context, attention_weights = self.attention_layer(
            attention_hidden, memory, processed_memory, weights_cat, mask
        )
        attention_weights_cum = attention_weights_cum + attention_weights
        decoder_input = torch.cat((attention_hidden, attention_context), -1)
        decoder_hidden, decoder_cell = self.decoder_rnn(
            decoder_input, (decoder_hidden, decoder_cell)
        )
        decoder_hidden = F.dropout(decoder_hidden, self.decoder_dropout, self.training)
        hidden_context = torch.cat((decoder_hidden, attention_context), dim=1)
        return (self.linear_projection(hidden_context), self.gate_layer(hidden_context),
                attention_hidden, attention_cell, decoder_hidden, decoder_cell, attention_weights,
                attention_weights_cum, attention_context)  # fmt: skip

    def forward(self, memory, mel_specgram_truth, memory_lengths):
        """Teacher-forced decoding: ``(mel (batch, n_mels, frames), gate logits (batch,
        steps), alignments (batch, steps, time))``."""
        inputs = mel_specgram_truth.transpose(1, 2)
        inputs = inputs.view(inputs.size(0), inputs.size(1) // self.n_frames_per_step, -1)
        inputs = torch.cat((self._go_frame(memory).unsqueeze(0), inputs.transpose(0, 1)), dim=0)
        inputs = self.prenet(inputs)
        mask = _padding_mask(memory_lengths)
        *states, processed_memory = self._initial_states(memory)
        mels, gates, alignments = [], [], []
        for step in range(inputs.size(0) - 1):
            mel, gate, *states = self.decode(inputs[step], *states, memory, processed_memory, mask)
            mels.append(mel.squeeze(1))
            gates.append(gate.squeeze(1))
            alignments.append(states[4])
        return self._parse_decoder_outputs(
            torch.stack(mels), torch.stack(gates), torch.stack(alignments)
        )

    def infer(self, memory, memory_lengths):
        """Free-running decoding: ``(mel, lengths (int32, frames until each sequence's gate
        fired), gate logits, alignments)``; warns when ``decoder_max_step`` is reached."""
        batch = memory.size(0)
        decoder_input = self._go_frame(memory)
        mask = _padding_mask(memory_lengths)
        *states, processed_memory = self._initial_states(memory)
        lengths = torch.zeros([batch], dtype=torch.int32, device=memory.device)
        finished = torch.zeros([batch], dtype=torch.bool, device=memory.device)
        mels, gates, alignments = [], [], []
        for _ in range(self.decoder_max_step):
            decoder_input = self.prenet(decoder_input)
            mel, gate, *states = self.decode(decoder_input, *states, memory, processed_memory, mask)
            mels.append(mel.unsqueeze(0))
            gates.append(gate.transpose(0, 1))
            alignments.append(states[4])
            lengths = lengths + (~finished).to(torch.int32)
            finished = finished | (torch.sigmoid(gate.squeeze(1)) > self.gate_threshold)
            if self.decoder_early_stopping and bool(torch.all(finished)):
                break
            decoder_input = mel
        if len(mels) == self.decoder_max_step:
            warn_user(
                "Reached max decoder steps. The generated spectrogram might not cover "
                "the whole transcript."
            )
        mel, gate, alignment = self._parse_decoder_outputs(
            torch.cat(mels, dim=0), torch.cat(gates, dim=0), torch.cat(alignments, dim=0)
        )
        return mel, lengths, gate, alignment


class Tacotron2(nn.Module):
    """Tacotron 2 with torchaudio's arguments and defaults (80 mels, 148 symbols, 512-wide
    encoder, 1024-wide LSTMs): ``forward(tokens, token_lengths, mel_specgram,
    mel_specgram_lengths)`` for training returns ``(mel, mel_postnet, gate_outputs,
    alignments)``; ``infer(tokens, lengths=None)`` returns ``(mel_postnet, mel_lengths,
    alignments)``."""

    def __init__(self, mask_padding=False, n_mels=80, n_symbol=148, n_frames_per_step=1,
                 symbol_embedding_dim=512, encoder_embedding_dim=512, encoder_n_convolution=3,
                 encoder_kernel_size=5, decoder_rnn_dim=1024, decoder_max_step=2000,
                 decoder_dropout=0.1, decoder_early_stopping=True, attention_rnn_dim=1024,
                 attention_hidden_dim=128, attention_location_n_filter=32,
                 attention_location_kernel_size=31, attention_dropout=0.1, prenet_dim=256,
                 postnet_n_convolution=5, postnet_kernel_size=5, postnet_embedding_dim=512,
                 gate_threshold=0.5):  # fmt: skip
        super().__init__()
        self.mask_padding, self.n_mels = mask_padding, n_mels
        self.n_frames_per_step = n_frames_per_step
        self.embedding = nn.Embedding(n_symbol, symbol_embedding_dim)
        nn.init.xavier_uniform_(self.embedding.weight)
        self.encoder = _Encoder(encoder_embedding_dim, encoder_n_convolution, encoder_kernel_size)
        self.decoder = _Decoder(n_mels, n_frames_per_step, encoder_embedding_dim, decoder_rnn_dim,
                                decoder_max_step, decoder_dropout, decoder_early_stopping,
                                attention_rnn_dim, attention_hidden_dim,
                                attention_location_n_filter, attention_location_kernel_size,
                                attention_dropout, prenet_dim, gate_threshold)  # fmt: skip
        self.postnet = _Postnet(n_mels, postnet_embedding_dim, postnet_kernel_size,
                                postnet_n_convolution)  # fmt: skip

    def forward(self, tokens, token_lengths, mel_specgram, mel_specgram_lengths):
        """Teacher-forced pass on ``tokens (batch, symbols)`` (lengths sorted decreasing) and
        the target ``mel_specgram (batch, n_mels, frames)``."""
        encoded = self.encoder(self.embedding(tokens).transpose(1, 2), token_lengths)
        mel, gate_outputs, alignments = self.decoder(encoded, mel_specgram, token_lengths)
        mel_postnet = mel + self.postnet(mel)
        if self.mask_padding:
            mask = _padding_mask(mel_specgram_lengths)
            mel_mask = mask.unsqueeze(1).expand(mask.size(0), self.n_mels, mask.size(1))
            mel = mel.masked_fill(mel_mask, 0.0)
            mel_postnet = mel_postnet.masked_fill(mel_mask, 0.0)
            gate_outputs = gate_outputs.masked_fill(mask, 1e3)
        return mel, mel_postnet, gate_outputs, alignments

    def infer(self, tokens, lengths=None):
        """Synthesize from ``tokens (batch, symbols)``: ``(mel_postnet (batch, n_mels,
        frames), mel_lengths, alignments (batch, frames, symbols))``."""
        n_batch, max_length = tokens.shape
        if lengths is None:
            lengths = torch.full((n_batch,), max_length, dtype=tokens.dtype, device=tokens.device)
        encoded = self.encoder(self.embedding(tokens).transpose(1, 2), lengths)
        mel, mel_lengths, _, alignments = self.decoder.infer(encoded, lengths)
        mel_postnet = mel + self.postnet(mel)
        alignments = alignments.unfold(1, n_batch, n_batch).transpose(0, 2)
        return mel_postnet, mel_lengths, alignments
