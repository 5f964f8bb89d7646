"""A 1-D convolutional autoencoder for time series as anomaly-detection notebooks write it:
sliding windows cut with Tensor.unfold(dimension, size, step), F.pad in reflect, replicate
and circular modes, Conv1d + MaxPool1d / AvgPool1d encoder, nn.Flatten / nn.Unflatten
bottleneck, ConvTranspose1d and nn.Upsample(mode="linear") decoder; windows with an injected
spike get the largest reconstruction error."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

rng = np.random.default_rng(0)
t = np.arange(1200, dtype=np.float32)
signal = (
    np.sin(2 * np.pi * t / 50) + 0.5 * np.sin(2 * np.pi * t / 13) + 0.1 * rng.standard_normal(1200)
)
series = torch.from_numpy(signal.astype(np.float32))
window, stride = 32, 8
windows = series.unfold(0, window, stride)  # (num_windows, window)
print(f"{len(series)} samples -> windows {tuple(windows.shape)}")


class ConvAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv1d(1, 8, 5), nn.ReLU(), nn.MaxPool1d(2),  # 32 (reflect-padded by 2) -> 16
            nn.Conv1d(8, 8, 3, padding=1), nn.ReLU(), nn.AvgPool1d(2),  # 16 -> 8
            nn.Flatten(), nn.Linear(64, 12),
        )  # fmt: skip
        self.decoder = nn.Sequential(
            nn.Linear(12, 64), nn.ReLU(), nn.Unflatten(1, (8, 8)),
            nn.ConvTranspose1d(8, 8, 4, stride=2, padding=1), nn.ReLU(),  # 8 -> 16
            nn.Upsample(scale_factor=2, mode="linear", align_corners=False),  # 16 -> 32
            nn.Conv1d(8, 1, 3),
        )  # fmt: skip

    def forward(self, x):
        z = self.encoder(F.pad(x, (2, 2), mode="reflect"))
        return F.pad(self.decoder(z), (1, 1), mode="replicate")  # 30 -> 32


model = init_from_numpy(ConvAutoencoder())
optimizer = torch.optim.Adam(model.parameters(), lr=0.005)
train = windows[:100].unsqueeze(1)
losses = []
for epoch in range(40):
    optimizer.zero_grad()
    loss = F.mse_loss(model(train), train)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"reconstruction loss {losses[0]:.4f} -> {losses[-1]:.4f}")

test = windows[100:].clone().unsqueeze(1)
spike_window = 20
test[spike_window, 0, 10:13] += 3.0
with torch.no_grad():
    errors = ((model(test) - test) ** 2).mean(dim=(1, 2))
most_anomalous = int(errors.argmax())
print(f"most anomalous test window {most_anomalous} (spike injected into {spike_window})")

x = torch.arange(6.0).view(1, 1, 6)
pads = {
    mode: F.pad(x, (2, 3), mode=mode)[0, 0].tolist()
    for mode in ("reflect", "replicate", "circular")
}
pads["constant"] = F.pad(x, (1, 1), value=-1.0)[0, 0].tolist()
print(pads)
