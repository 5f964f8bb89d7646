"""torchaudio.models.DeepSpeech (Hannun et al., 2014): three clipped-ReLU dense layers, a
bidirectional ReLU RNN whose directions are summed, a dense layer and a classifier."""

from __future__ import annotations

from minigrad import nn
from minigrad.nn import functional as F


class FullyConnected(nn.Module):
    """Linear, then ReLU clipped at ``relu_max_clip``, then dropout."""

    def __init__(self, n_feature: int, n_hidden: int, dropout: float, relu_max_clip: int = 20):
        super().__init__()
        self.fc = nn.Linear(n_feature, n_hidden, bias=True)
        self.relu_max_clip, self.dropout = relu_max_clip, dropout

    def forward(self, x):
        x = F.hardtanh(F.relu(self.fc(x)), 0, self.relu_max_clip)
        if self.dropout:
            x = F.dropout(x, self.dropout, self.training)
        return x


class DeepSpeech(nn.Module):
    """Log-probabilities ``(batch, time, n_class)`` from features ``(batch, 1, time, n_feature)``."""

    def __init__(
        self, n_feature: int, n_hidden: int = 2048, n_class: int = 40, dropout: float = 0.0
    ):
        super().__init__()
        self.n_hidden = n_hidden
        self.fc1 = FullyConnected(n_feature, n_hidden, dropout)
        self.fc2 = FullyConnected(n_hidden, n_hidden, dropout)
        self.fc3 = FullyConnected(n_hidden, n_hidden, dropout)
        self.bi_rnn = nn.RNN(
            n_hidden, n_hidden, num_layers=1, nonlinearity="relu", bidirectional=True
        )
        self.fc4 = FullyConnected(n_hidden, n_hidden, dropout)
        self.out = nn.Linear(n_hidden, n_class)

    def forward(self, x):
        x = self.fc3(self.fc2(self.fc1(x))).squeeze(1).transpose(0, 1)  # (time, batch, hidden)
        x, _ = self.bi_rnn(x)
        x = x[:, :, : self.n_hidden] + x[:, :, self.n_hidden :]  # sum of the two directions
        x = self.out(self.fc4(x)).permute(1, 0, 2)
        return F.log_softmax(x, dim=2)
