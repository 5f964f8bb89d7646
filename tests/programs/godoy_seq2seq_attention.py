"""Daniel Voigt Godoy's "Deep Learning with PyTorch Step-by-Step", chapter 9 (sequence-to-
sequence): the square's first two corners encoded by a GRU ``Encoder``, a ``Decoder`` with
``init_hidden`` from the encoder's last state, the ``Attention`` module (``init_keys`` storing
projected keys, a scaled dot-product ``score_function`` via ``torch.bmm``, ``masked_fill`` of
a ``source_mask``, ``alphas`` kept for inspection), ``DecoderAttn`` concatenating context and
hidden state, and ``EncoderDecoder`` with an ``outputs`` buffer, ``init_outputs``,
``store_output`` and teacher forcing drawn with ``torch.rand(1) <= teacher_forcing_prob``."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, n_features, hidden_dim):
        super().__init__()
        self.hidden_dim, self.n_features = hidden_dim, n_features
        self.basic_rnn = nn.GRU(self.n_features, self.hidden_dim, batch_first=True)

    def forward(self, X):
        rnn_out, self.hidden = self.basic_rnn(X)
        return rnn_out


class Attention(nn.Module):
    def __init__(self, hidden_dim, input_dim=None, proj_values=False):
        super().__init__()
        self.d_k = hidden_dim
        self.input_dim = hidden_dim if input_dim is None else input_dim
        self.proj_values = proj_values
        self.linear_query = nn.Linear(self.input_dim, hidden_dim)
        self.linear_key = nn.Linear(self.input_dim, hidden_dim)
        self.linear_value = nn.Linear(self.input_dim, hidden_dim)
        self.alphas = None

    def init_keys(self, keys):
        self.keys = keys
        self.proj_keys = self.linear_key(self.keys)
        self.values = self.linear_value(self.keys) if self.proj_values else self.keys

    def score_function(self, query):
        proj_query = self.linear_query(query)
        dot_products = torch.bmm(proj_query, self.proj_keys.permute(0, 2, 1))
        return dot_products / np.sqrt(self.d_k)

    def forward(self, query, mask=None):
        scores = self.score_function(query)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, -1e9)
        alphas = F.softmax(scores, dim=-1)
        self.alphas = alphas.detach()
        return torch.bmm(alphas, self.values)


class DecoderAttn(nn.Module):
    def __init__(self, n_features, hidden_dim):
        super().__init__()
        self.hidden_dim, self.n_features = hidden_dim, n_features
        self.basic_rnn = nn.GRU(self.n_features, self.hidden_dim, batch_first=True)
        self.attn = Attention(self.hidden_dim)
        self.regression = nn.Linear(2 * self.hidden_dim, self.n_features)

    def init_hidden(self, hidden_seq):
        self.attn.init_keys(hidden_seq)
        hidden_final = hidden_seq[:, -1:]
        self.hidden = hidden_final.permute(1, 0, 2)

    def forward(self, X, mask=None):
        batch_first_output, self.hidden = self.basic_rnn(X, self.hidden)
        query = batch_first_output[:, -1:]
        context = self.attn(query, mask=mask)
        concatenated = torch.cat([context, query], axis=-1)
        out = self.regression(concatenated)
        return out.view(-1, 1, self.n_features)


class EncoderDecoder(nn.Module):
    def __init__(self, encoder, decoder, input_len, target_len, teacher_forcing_prob=0.5):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self.input_len, self.target_len = input_len, target_len
        self.teacher_forcing_prob = teacher_forcing_prob
        self.outputs = None

    def init_outputs(self, batch_size):
        self.outputs = torch.zeros(batch_size, self.target_len, self.encoder.n_features)

    def store_output(self, i, out):
        self.outputs[:, i : i + 1, :] = out

    def forward(self, X):
        source_seq = X[:, : self.input_len, :]
        target_seq = X[:, self.input_len :, :]
        self.init_outputs(X.shape[0])
        hidden_seq = self.encoder(source_seq)
        self.decoder.init_hidden(hidden_seq)
        dec_inputs = source_seq[:, -1:, :]
        for i in range(self.target_len):
            out = self.decoder(dec_inputs)
            self.store_output(i, out)
            prob = self.teacher_forcing_prob
            if not self.training:
                prob = 0
            if torch.rand(1) <= prob:
                dec_inputs = target_seq[:, i : i + 1, :]
            else:
                dec_inputs = out
        return self.outputs


basic_corners = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [1.0, -1.0]])
torch.manual_seed(13)
starts, clockwise = torch.randint(0, 4, (80,)), torch.randint(0, 2, (80,))
order = torch.stack([(starts + (2 * clockwise - 1) * k) % 4 for k in range(4)], dim=1)
full_seq = basic_corners[order] + 0.1 * torch.randn(80, 4, 2)
train_loader = DataLoader(
    TensorDataset(full_seq[:64], full_seq[:64, 2:]), batch_size=16, shuffle=True
)
test_seq = full_seq[64:]

torch.manual_seed(23)
encoder = Encoder(n_features=2, hidden_dim=4)
decoder_attn = DecoderAttn(n_features=2, hidden_dim=4)
model = EncoderDecoder(encoder, decoder_attn, input_len=2, target_len=2, teacher_forcing_prob=0.5)
loss_fn = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.01)
losses = []
for epoch in range(12):
    batch_losses = []
    for x_batch, y_batch in train_loader:
        model.train()
        loss = loss_fn(model(x_batch), y_batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        batch_losses.append(loss.item())
    losses.append(float(np.mean(batch_losses)))
print(f"losses {losses[0]:.4f} -> {losses[-1]:.4f}")

model.eval()
with torch.no_grad():
    predicted = model(test_seq)
    test_loss = loss_fn(predicted, test_seq[:, 2:]).item()
alphas_shape = tuple(model.decoder.attn.alphas.shape)
first_alphas = model.decoder.attn.alphas[:3, 0].tolist()
mask = torch.tensor([[[1, 0]]]).expand(16, 1, 2)
masked = decoder_attn.attn(torch.zeros(16, 1, 4), mask=mask)
masked_alpha = decoder_attn.attn.alphas[0, 0].tolist()
print(f"test loss {test_loss:.4f}, alphas {alphas_shape}, masked {masked_alpha}")
