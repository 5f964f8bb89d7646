"""A few steps of the adding problem (Hochreiter & Schmidhuber; Le et al., 2015) with an IRNN:
an Elman nn.RNN with nonlinearity='relu' whose recurrent matrix starts at the identity
(nn.init.eye_) and biases at zero, against a tanh RNN with orthogonal recurrent weights
(nn.init.orthogonal_) and an LSTM with its forget-gate bias set to 1 (slicing bias_ih_l0 in
place under no_grad); gradients clipped by value (clip_grad_value_) and by norm, and the
gradient reaching the first time step measured through torch.autograd.grad on the inputs."""

import torch
import torch.nn as nn
import torch.nn.functional as F

T = 30


def adding_batch(n, generator):
    values = torch.rand(n, T, generator=generator)
    markers = torch.zeros(n, T)
    first = torch.randint(0, T // 2, (n,), generator=generator)
    second = torch.randint(T // 2, T, (n,), generator=generator)
    markers[torch.arange(n), first] = 1.0
    markers[torch.arange(n), second] = 1.0
    x = torch.stack([values, markers], dim=-1)
    return x, (values * markers).sum(1)


class Regressor(nn.Module):
    def __init__(self, kind, hidden=32):
        super().__init__()
        if kind == "irnn":
            self.rnn = nn.RNN(2, hidden, nonlinearity="relu", batch_first=True)
            nn.init.eye_(self.rnn.weight_hh_l0)
            nn.init.zeros_(self.rnn.bias_hh_l0)
            nn.init.zeros_(self.rnn.bias_ih_l0)
            nn.init.normal_(self.rnn.weight_ih_l0, std=0.001)
        elif kind == "orthogonal":
            self.rnn = nn.RNN(2, hidden, batch_first=True)
            nn.init.orthogonal_(self.rnn.weight_hh_l0)
        else:
            self.rnn = nn.LSTM(2, hidden, batch_first=True)
            with torch.no_grad():
                self.rnn.bias_ih_l0[hidden : 2 * hidden].fill_(1.0)  # forget gate
                self.rnn.bias_hh_l0[hidden : 2 * hidden].zero_()
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1]).squeeze(-1)


g = torch.Generator().manual_seed(0)
test_x, test_y = adding_batch(256, g)
baseline_mse = F.mse_loss(torch.full_like(test_y, 1.0), test_y).item()  # always predict 1
results = {}
for kind in ("irnn", "orthogonal", "lstm"):
    torch.manual_seed(0)
    model = Regressor(kind)
    if kind == "orthogonal":
        w = model.rnn.weight_hh_l0.detach()
        orthogonality_gap = (w @ w.t() - torch.eye(32)).abs().max().item()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses, grad_norms = [], []
    for step in range(60):
        x, y = adding_batch(64, g)
        loss = F.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
        grad_norms.append(nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
        optimizer.step()
        losses.append(loss.item())
    x = test_x[:32].clone().requires_grad_(True)
    (first_grad,) = torch.autograd.grad(model(x).sum(), x)
    with torch.no_grad():
        test_mse = F.mse_loss(model(test_x), test_y).item()
    results[kind] = {
        "losses": losses,
        "grad_norms": grad_norms,
        "test_mse": test_mse,
        "first_step_grad": first_grad[:, 0].abs().mean().item(),
    }
    print(
        f"{kind}: mse {losses[0]:.3f} -> {losses[-1]:.3f}, test {test_mse:.3f} (baseline {baseline_mse:.3f})"
    )
