"""A Fourier neural operator (Li et al. 2021) as the original fourier_1d.py writes it for
PyTorch: SpectralConv1d keeps the lowest Fourier modes of torch.fft.rfft, multiplies them by
complex weights (torch.cfloat parameters, einsum "bix,iox->box"), writes them into a complex
out_ft tensor and returns torch.fft.irfft(out_ft, n=...); trained with Adam and a relative L2
loss to learn the solution operator of the 1-D heat equation u_t = nu u_xx on a periodic grid
(exact in Fourier space: each mode decays as exp(-nu k^2 t))."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
np.random.seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class SpectralConv1d(nn.Module):
    def __init__(self, in_channels, out_channels, modes1):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.modes1 = modes1
        self.scale = 1 / (in_channels * out_channels)
        self.weights1 = nn.Parameter(
            self.scale * torch.rand(in_channels, out_channels, self.modes1, dtype=torch.cfloat)
        )

    def compl_mul1d(self, input, weights):
        # (batch, in_channel, x), (in_channel, out_channel, x) -> (batch, out_channel, x)
        return torch.einsum("bix,iox->box", input, weights)

    def forward(self, x):
        batchsize = x.shape[0]
        x_ft = torch.fft.rfft(x)
        out_ft = torch.zeros(
            batchsize, self.out_channels, x.size(-1) // 2 + 1, device=x.device, dtype=torch.cfloat
        )
        out_ft[:, :, : self.modes1] = self.compl_mul1d(x_ft[:, :, : self.modes1], self.weights1)
        x = torch.fft.irfft(out_ft, n=x.size(-1))
        return x


class FNO1d(nn.Module):
    def __init__(self, modes, width):
        super().__init__()
        self.modes1 = modes
        self.width = width
        self.fc0 = nn.Linear(2, self.width)  # input: (a(x), x)
        self.conv0 = SpectralConv1d(self.width, self.width, self.modes1)
        self.conv1 = SpectralConv1d(self.width, self.width, self.modes1)
        self.w0 = nn.Conv1d(self.width, self.width, 1)
        self.w1 = nn.Conv1d(self.width, self.width, 1)
        self.fc1 = nn.Linear(self.width, 32)
        self.fc2 = nn.Linear(32, 1)

    def forward(self, x):
        grid = self.get_grid(x.shape, x.device)
        x = torch.cat((x, grid), dim=-1)
        x = self.fc0(x)
        x = x.permute(0, 2, 1)
        x = F.gelu(self.conv0(x) + self.w0(x))
        x = self.conv1(x) + self.w1(x)
        x = x.permute(0, 2, 1)
        x = F.gelu(self.fc1(x))
        return self.fc2(x)

    def get_grid(self, shape, device):
        batchsize, size_x = shape[0], shape[1]
        gridx = torch.tensor(np.linspace(0, 1, size_x), dtype=torch.float)
        gridx = gridx.reshape(1, size_x, 1).repeat([batchsize, 1, 1])
        return gridx.to(device)


class LpLoss:
    """The relative L2 loss of the FNO repository's utilities."""

    def __call__(self, x, y):
        num_examples = x.size()[0]
        diff_norms = torch.norm(x.reshape(num_examples, -1) - y.reshape(num_examples, -1), 2, 1)
        y_norms = torch.norm(y.reshape(num_examples, -1), 2, 1)
        return torch.mean(diff_norms / y_norms)


def heat_data(n, s=32, nu=0.01, t=1.0):
    """Random smooth periodic initial conditions and the exact heat-equation solution at t."""
    k = np.fft.rfftfreq(s, d=1.0 / s)
    coefficients = (np.random.randn(n, k.size) + 1j * np.random.randn(n, k.size)) / (1 + k) ** 2
    a = np.fft.irfft(coefficients, n=s) * s
    u = np.fft.irfft(coefficients * np.exp(-nu * (2 * math.pi * k) ** 2 * t), n=s) * s
    return torch.tensor(a, dtype=torch.float32), torch.tensor(u, dtype=torch.float32)


x_train, y_train = heat_data(64)
x_test, y_test = heat_data(16)
train_loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(x_train.unsqueeze(-1), y_train.unsqueeze(-1)),
    batch_size=16,
    shuffle=True,
)

model = FNO1d(modes=8, width=16).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=0.005, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.5)
myloss = LpLoss()
n_params = sum(p.numel() for p in model.parameters())
complex_params = [name for name, p in model.named_parameters() if p.is_complex()]

history = []
for ep in range(25):
    model.train()
    train_l2 = 0.0
    for x, y in train_loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        out = model(x)
        loss = myloss(out.view(x.shape[0], -1), y.view(x.shape[0], -1))
        loss.backward()
        optimizer.step()
        train_l2 += loss.item()
    scheduler.step()
    history.append(train_l2 / len(train_loader))
    if ep % 10 == 0:
        print(f"epoch {ep}: train relative L2 {history[-1]:.4f}")

model.eval()
with torch.no_grad():
    test_l2 = myloss(model(x_test.unsqueeze(-1).to(device)).squeeze(-1), y_test.to(device)).item()
print(f"test relative L2 {test_l2:.4f}, {n_params} parameters ({len(complex_params)} complex)")
