"""Time-series forecasting with an LSTM as the common tutorials write it: a synthetic airline-
style monthly series (trend + seasonality + noise), min-max scaling fitted on the training
part, sliding windows (lookback) built with unfold, a batch_first nn.LSTM with dropout between
two layers and a Linear head on the last time step, TensorDataset/DataLoader(shuffle=True),
ReduceLROnPlateau on a validation loss, early stopping with the best state_dict kept by
copy.deepcopy, autoregressive multi-step forecasting, and RMSE against a seasonal-naive
baseline."""

import copy
import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

months = torch.arange(240, dtype=torch.float32)
series = 100 + 0.1 * months + 20 * torch.sin(2 * math.pi * months / 12) + 3 * torch.randn(240)
train_size, val_size = 180, 30
train, val, test = (
    series[:train_size],
    series[train_size : train_size + val_size],
    series[train_size + val_size :],
)
lo, hi = train.min(), train.max()


def scale(x):
    return (x - lo) / (hi - lo)


def unscale(x):
    return x * (hi - lo) + lo


lookback = 12


def create_dataset(dataset, lookback):
    """Windows of `lookback` values and the value that follows each."""
    windows = dataset.unfold(0, lookback + 1, 1)  # (n - lookback, lookback + 1)
    X, y = windows[:, :lookback], windows[:, lookback:]
    return X.unsqueeze(-1), y


X_train, y_train = create_dataset(scale(train), lookback)
X_val, y_val = create_dataset(
    scale(series[train_size - lookback : train_size + val_size]), lookback
)
print(X_train.shape, y_train.shape, X_val.shape)


class Forecaster(nn.Module):
    def __init__(self, hidden_size=32, num_layers=2, dropout=0.1):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden_size, num_layers=num_layers,
                            batch_first=True, dropout=dropout)  # fmt: skip
        self.linear = nn.Linear(hidden_size, 1)

    def forward(self, x):
        x, (h_n, c_n) = self.lstm(x)
        return self.linear(x[:, -1, :])


model = Forecaster()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
    optimizer, mode="min", factor=0.5, patience=3
)
loss_fn = nn.MSELoss()
loader = DataLoader(TensorDataset(X_train, y_train), shuffle=True, batch_size=16)

best_val, best_state, patience, bad_epochs = float("inf"), None, 8, 0
history = []
for epoch in range(30):
    model.train()
    for X_batch, y_batch in loader:
        y_pred = model(X_batch)
        loss = loss_fn(y_pred, y_batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        train_rmse = loss_fn(model(X_train), y_train).sqrt().item()
        val_rmse = loss_fn(model(X_val), y_val).sqrt().item()
    scheduler.step(val_rmse)
    history.append((train_rmse, val_rmse, optimizer.param_groups[0]["lr"]))
    if epoch % 5 == 0:
        print(f"Epoch {epoch}: train RMSE {train_rmse:.4f}, val RMSE {val_rmse:.4f}")
    if val_rmse < best_val:
        best_val, best_state, bad_epochs = val_rmse, copy.deepcopy(model.state_dict()), 0
    else:
        bad_epochs += 1
        if bad_epochs >= patience:
            print(f"early stopping at epoch {epoch}")
            break
model.load_state_dict(best_state)
stopped_epoch = epoch

# Autoregressive forecast of the test months from the last `lookback` known values
model.eval()
window = scale(series[train_size + val_size - lookback : train_size + val_size]).view(
    1, lookback, 1
)
forecast = []
with torch.no_grad():
    for _ in range(len(test)):
        nxt = model(window)  # (1, 1)
        forecast.append(nxt.item())
        window = torch.cat([window[:, 1:], nxt.view(1, 1, 1)], dim=1)
forecast = unscale(torch.tensor(forecast))
rmse = (forecast - test).pow(2).mean().sqrt().item()
naive = series[train_size + val_size - 12 : train_size + val_size - 12 + len(test)]  # last season
naive_rmse = (naive - test).pow(2).mean().sqrt().item()
mean_rmse = (train.mean() - test).pow(2).mean().sqrt().item()  # predicting the training mean
print(
    f"test RMSE {rmse:.2f} vs seasonal-naive {naive_rmse:.2f} and mean {mean_rmse:.2f}; "
    f"lrs {sorted({h[2] for h in history})}"
)
