"""A small WaveNet as the popular PyTorch ports (vincentherrmann/pytorch-wavenet,
golbin/WaveNet) write it: mu-law companding as torchaudio's mu_law_encoding /
mu_law_decoding (sign, log1p, quantization to 256 classes), one-hot inputs, a causal input
convolution, stacked dilated causal Conv1d layers with gated activations tanh * sigmoid,
residual and skip 1x1 convolutions summed over layers, cross-entropy over the quantized
classes per time step, and autoregressive generation by sampling from
torch.distributions.Categorical, compared with the receptive field formula."""

import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical

torch.manual_seed(0)


def mu_law_encoding(x, quantization_channels):
    mu = quantization_channels - 1.0
    if not x.is_floating_point():
        x = x.to(torch.float)
    mu = torch.tensor(mu, dtype=x.dtype)
    x_mu = torch.sign(x) * torch.log1p(mu * torch.abs(x)) / torch.log1p(mu)
    x_mu = ((x_mu + 1) / 2 * mu + 0.5).to(torch.int64)
    return x_mu


def mu_law_decoding(x_mu, quantization_channels):
    mu = quantization_channels - 1.0
    if not x_mu.is_floating_point():
        x_mu = x_mu.to(torch.float)
    mu = torch.tensor(mu, dtype=x_mu.dtype)
    x = ((x_mu) / mu) * 2 - 1.0
    x = torch.sign(x) * (torch.exp(torch.abs(x) * torch.log1p(mu)) - 1.0) / mu
    return x


class CausalConv1d(nn.Conv1d):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        self.__padding = (kernel_size - 1) * dilation
        super().__init__(
            in_channels, out_channels, kernel_size, padding=self.__padding, dilation=dilation
        )

    def forward(self, input):
        result = super().forward(input)
        if self.__padding != 0:
            return result[:, :, : -self.__padding]
        return result


class ResidualBlock(nn.Module):
    def __init__(self, residual_channels, skip_channels, dilation):
        super().__init__()
        self.dilated = CausalConv1d(
            residual_channels, 2 * residual_channels, kernel_size=2, dilation=dilation
        )
        self.conv_res = nn.Conv1d(residual_channels, residual_channels, 1)
        self.conv_skip = nn.Conv1d(residual_channels, skip_channels, 1)

    def forward(self, x):
        output = self.dilated(x)
        filt, gate = output.chunk(2, dim=1)
        gated = torch.tanh(filt) * torch.sigmoid(gate)
        return self.conv_res(gated) + x, self.conv_skip(gated)


class WaveNet(nn.Module):
    def __init__(
        self, layer_size=4, stack_size=2, in_channels=64, res_channels=16, skip_channels=32
    ):
        super().__init__()
        self.in_channels = in_channels
        self.causal = CausalConv1d(in_channels, res_channels, kernel_size=2)
        self.dilations = [2**i for i in range(layer_size)] * stack_size
        self.res_blocks = nn.ModuleList(
            [ResidualBlock(res_channels, skip_channels, d) for d in self.dilations]
        )
        self.dense = nn.Sequential(
            nn.ReLU(), nn.Conv1d(skip_channels, skip_channels, 1),
            nn.ReLU(), nn.Conv1d(skip_channels, in_channels, 1),
        )  # fmt: skip

    @property
    def receptive_field(self):
        return sum(self.dilations) + 2  # the current step, one for the input conv, each dilation

    def forward(self, x):
        """x: (batch, time) class indices; logits (batch, classes, time) for the next sample."""
        x = F.one_hot(x, self.in_channels).to(self.causal.weight.dtype).transpose(1, 2)
        x = self.causal(x)
        skip_connections = []
        for block in self.res_blocks:
            x, skip = block(x)
            skip_connections.append(skip)
        output = torch.sum(torch.stack(skip_connections), dim=0)
        return self.dense(output)


Q = 64  # quantization channels
t = torch.arange(0, 2000).float()
audio = 0.6 * torch.sin(2 * math.pi * t / 40) * (0.7 + 0.3 * torch.sin(2 * math.pi * t / 400))
encoded = mu_law_encoding(audio, Q)
roundtrip_error = (mu_law_decoding(encoded, Q) - audio).abs().max().item()
model = WaveNet(in_channels=Q)
receptive_field = model.receptive_field
print(f"receptive field {receptive_field}, mu-law round-trip error {roundtrip_error:.4f}")

# The receptive field: the output at time T depends on inputs T - rf + 1 .. T only (checked in
# float64: the influence of the oldest input at initialization is tiny but not zero)
probe = copy.deepcopy(model).double()
x = torch.randint(0, Q, (1, 64))
with torch.no_grad():
    base = probe(x)[0, :, -1]
    changed = x.clone()
    changed[0, -receptive_field - 1] = (changed[0, -receptive_field - 1] + 1) % Q  # just outside
    outside_gap = (probe(changed)[0, :, -1] - base).abs().max().item()
    changed = x.clone()
    changed[0, -receptive_field] = (changed[0, -receptive_field] + 1) % Q  # the oldest inside
    inside_gap = (probe(changed)[0, :, -1] - base).abs().max().item()

optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
seq_len, batch = 96, 16
losses = []
for step in range(40):
    starts = torch.randint(0, len(encoded) - seq_len - 1, (batch,))
    idx = starts[:, None] + torch.arange(seq_len + 1)
    chunk = encoded[idx]
    logits = model(chunk[:, :-1])
    loss = F.cross_entropy(logits[:, :, receptive_field:], chunk[:, 1 + receptive_field :])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % 20 == 0:
        print(f"step {step}: loss {loss.item():.3f} (uniform {math.log(Q):.3f})")

# Generate: sample one step at a time from the predicted distribution
model.eval()
generated = encoded[:receptive_field].tolist()
with torch.no_grad():
    for _ in range(40):
        window = torch.tensor(generated[-receptive_field:]).unsqueeze(0)
        logits = model(window)[0, :, -1]
        generated.append(Categorical(logits=logits / 0.5).sample().item())
waveform = mu_law_decoding(torch.tensor(generated[receptive_field:]), Q)
print(f"generated {len(waveform)} samples in [{waveform.min():.2f}, {waveform.max():.2f}]")
