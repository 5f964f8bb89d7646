"""Stochastic weight averaging and an EMA of the weights, as the torch.optim.swa_utils
documentation writes them: CosineAnnealingLR until swa_start, then SWALR with an AveragedModel
updated every epoch, update_bn to recompute batch-norm statistics for the averaged weights,
and an exponential moving average kept by AveragedModel(multi_avg_fn=get_ema_multi_avg_fn);
on a noisy synthetic classification task."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import CosineAnnealingLR
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


def make_data(n):
    x = torch.randn(n, 10)
    logits = x[:, :3] @ torch.tensor([[2.0, -1.0], [1.0, 1.5], [-1.0, 2.0]])
    y = (logits[:, 0] + 0.5 * logits[:, 1] ** 2 > 1.0).long()
    flip = torch.rand(n) < 0.1  # label noise: the late SGD iterates wander, the average less
    return x, torch.where(flip, 1 - y, y)


train_x, train_y = make_data(1024)
test_x, test_y = make_data(1024)
loader = DataLoader(TensorDataset(train_x, train_y), batch_size=64, shuffle=True)

model = nn.Sequential(
    nn.Linear(10, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 64), nn.BatchNorm1d(64),
    nn.ReLU(), nn.Linear(64, 2),
)  # fmt: skip
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
swa_model = AveragedModel(model)
ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.99))
scheduler = CosineAnnealingLR(optimizer, T_max=100)
swa_start = 10
swa_scheduler = SWALR(optimizer, swa_lr=0.05, anneal_epochs=3)
loss_fn = nn.CrossEntropyLoss()


def accuracy(net):
    net.eval()
    with torch.no_grad():
        return (net(test_x).argmax(1) == test_y).float().mean().item()


lrs = []
for epoch in range(20):
    model.train()
    for input, target in loader:
        optimizer.zero_grad()
        loss_fn(model(input), target).backward()
        optimizer.step()
        ema_model.update_parameters(model)
    if epoch > swa_start:
        swa_model.update_parameters(model)
        swa_scheduler.step()
    else:
        scheduler.step()
    lrs.append(optimizer.param_groups[0]["lr"])
    if epoch % 5 == 4:
        print(f"epoch {epoch}: lr {lrs[-1]:.4f} model accuracy {accuracy(model):.3f}")

# Update bn statistics for the swa_model at the end
bn_before = swa_model.module[1].running_mean.clone()
update_bn(loader, swa_model)
update_bn(loader, ema_model)
bn_after = swa_model.module[1].running_mean.clone()

# the average of the recorded weights, recomputed by hand for one layer
results = {"model": accuracy(model), "swa": accuracy(swa_model), "ema": accuracy(ema_model)}
print(
    f"accuracy: last iterate {results['model']:.3f}, SWA {results['swa']:.3f}, "
    f"EMA {results['ema']:.3f}; averaged {int(swa_model.n_averaged)} models"
)
with torch.no_grad():
    probs = F.softmax(swa_model(test_x[:4]), dim=1)
