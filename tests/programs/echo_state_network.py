"""Reservoir computing as the ESN tutorials write it in PyTorch: a Mackey-Glass series
integrated with a delay buffer, a fixed random reservoir (``torch.rand`` weights, a sparse
``torch.rand(...) < density`` mask) rescaled to a spectral radius through
``torch.linalg.eigvals(W).abs().max()``, a leaky-integrator ``nn.Module`` whose weights are
buffers (no gradient), washout, a ridge-regression readout solved with
``torch.linalg.solve`` and checked against ``torch.linalg.lstsq`` and ``torch.linalg.pinv``,
one-step teacher-forced predictions and a closed-loop (generative) run, scored by NRMSE.
Float64 throughout."""

import torch
import torch.nn as nn

torch.manual_seed(42)
dtype = torch.float64


def mackey_glass(n, tau=17, beta=0.2, gamma=0.1, power=10, dt=1.0, x0=1.2):
    history = [x0] * (tau + 1)
    for _ in range(n + 200):
        x_tau = history[-tau - 1]
        x = history[-1]
        history.append(x + dt * (beta * x_tau / (1 + x_tau**power) - gamma * x))
    return torch.tensor(history[-n:], dtype=dtype)


series = mackey_glass(900)
series = torch.tanh(series - 1.0)
train_len, test_len, washout = 600, 200, 100


class ESN(nn.Module):
    def __init__(self, n_in, n_res, spectral_radius=0.9, density=0.1, leak=0.3, in_scale=0.5):
        super().__init__()
        W = torch.rand(n_res, n_res, dtype=dtype) - 0.5
        W = W * (torch.rand(n_res, n_res, dtype=dtype) < density)
        rho = torch.linalg.eigvals(W).abs().max()
        self.register_buffer("W", W * (spectral_radius / rho))
        self.register_buffer("W_in", (torch.rand(n_res, n_in + 1, dtype=dtype) - 0.5) * in_scale)
        self.leak = leak
        self.n_res = n_res
        self.rho_before = rho.item()

    def step(self, u, x):
        pre = self.W_in @ torch.cat([torch.ones(1, dtype=dtype), u]) + self.W @ x
        return (1 - self.leak) * x + self.leak * torch.tanh(pre)

    def forward(self, inputs, x=None):
        x = torch.zeros(self.n_res, dtype=dtype) if x is None else x
        states = []
        for u in inputs:
            x = self.step(u.view(1), x)
            states.append(x)
        return torch.stack(states), x


esn = ESN(1, 80)
rho_after = torch.linalg.eigvals(esn.W).abs().max().item()
with torch.no_grad():
    states, last_state = esn(series[:train_len])
X = torch.cat([torch.ones(train_len, 1, dtype=dtype), series[:train_len, None], states], 1)
X, Y = X[washout:], series[washout + 1 : train_len + 1]

ridge = 1e-6
W_out = torch.linalg.solve(X.T @ X + ridge * torch.eye(X.shape[1], dtype=dtype), X.T @ Y)
W_lstsq = torch.linalg.lstsq(X, Y.unsqueeze(1)).solution.squeeze(1)
W_pinv = torch.linalg.pinv(X) @ Y
train_fit = X @ W_out
train_nrmse = (torch.sqrt(torch.mean((train_fit - Y) ** 2)) / Y.std()).item()
lstsq_gap = (X @ W_lstsq - X @ W_pinv).abs().max().item()
readout_norm = W_out.norm().item()


def nrmse(pred, target):
    return (torch.sqrt(torch.mean((pred - target) ** 2)) / target.std()).item()


target = series[train_len : train_len + test_len]
with torch.no_grad():
    teacher_states, _ = esn(series[train_len - 1 : train_len + test_len - 1], last_state)
    # the state after series[train_len - 1] is last_state; rerun from it with true inputs
    x, preds, u = last_state, [], series[train_len - 1]
    feats = torch.cat([torch.ones(1, dtype=dtype), u.view(1), x])
    y = feats @ W_out
    for t in range(test_len):
        preds.append(y)
        x = esn.step(y.view(1), x)
        y = torch.cat([torch.ones(1, dtype=dtype), y.view(1), x]) @ W_out
generated = torch.stack(preds)
one_step_inputs = series[train_len : train_len + test_len - 1]
one_step_feats = torch.cat(
    [torch.ones(test_len - 1, 1, dtype=dtype), one_step_inputs[:, None], teacher_states[1:]], 1
)
one_step_nrmse = nrmse(one_step_feats @ W_out, series[train_len + 1 : train_len + test_len])
gen_nrmse_50 = nrmse(generated[:50], target[:50])
gen_nrmse_all = nrmse(generated, target)
print(f"rho {esn.rho_before:.4f} -> {rho_after:.4f}; train NRMSE {train_nrmse:.2e}")
print(f"one-step NRMSE {one_step_nrmse:.2e}; generative NRMSE@50 {gen_nrmse_50:.3e}")
print(f"generative NRMSE@{test_len} {gen_nrmse_all:.3e}; |W_out| {readout_norm:.3f}")
generated_head = generated[:5].tolist()
