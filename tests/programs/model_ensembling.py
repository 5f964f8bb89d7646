"""The torch.func model-ensembling tutorial: several small MLPs stacked with
stack_module_state, called through functional_call on a "meta" base model, and vectorized with
vmap (each model on its own minibatch, and all models on the same minibatch); then the
ensemble is trained with one optimizer over the stacked parameters."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

torch.manual_seed(0)


class SimpleMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 4)

    def forward(self, x):
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


device = "cpu"
num_models = 5
data = torch.randn(60, 4, 4, device=device)
targets = torch.randint(4, (60,), device=device)
models = [SimpleMLP().to(device) for _ in range(num_models)]

# Option 1: a different minibatch for each model
minibatches = data[:50].reshape(num_models, 10, 4, 4)
predictions_diff_minibatch_loop = [model(mb) for model, mb in zip(models, minibatches)]

# Option 2: the same minibatch for all models
minibatch = data[:10]
predictions2 = [model(minibatch) for model in models]

params, buffers = stack_module_state(models)
base_model = copy.deepcopy(models[0])  # the tutorial then moves it to the "meta" device


def fmodel(params, buffers, x):
    return functional_call(base_model, (params, buffers), (x,))


print([p.size(0) for p in params.values()])  # show the leading 'num_models' dimension
minibatches = minibatches.to(device)
predictions1_vmap = vmap(fmodel)(params, buffers, minibatches)
assert torch.allclose(
    predictions1_vmap, torch.stack(predictions_diff_minibatch_loop), atol=1e-3, rtol=1e-5
)
predictions2_vmap = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch)
assert torch.allclose(predictions2_vmap, torch.stack(predictions2), atol=1e-3, rtol=1e-5)
gap_diff = (predictions1_vmap - torch.stack(predictions_diff_minibatch_loop)).abs().max().item()
gap_same = (predictions2_vmap - torch.stack(predictions2)).abs().max().item()

# Train the whole ensemble at once: the stacked tensors are leaves that require grad
params = {k: v.detach().requires_grad_() for k, v in params.items()}
optimizer = torch.optim.Adam(params.values(), lr=1e-2)
x_train = torch.randn(256, 4, 4)
y_train = (x_train.flatten(1)[:, :4]).argmax(1)
losses = []
for step in range(60):
    idx = torch.randint(0, 256, (num_models, 32))
    logits = vmap(fmodel)(params, buffers, x_train[idx])  # (num_models, 32, 4)
    loss = F.cross_entropy(logits.reshape(-1, 4), y_train[idx].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % 20 == 0:
        print(f"step {step}: ensemble loss {loss.item():.4f}")

with torch.no_grad():
    ensemble_logits = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x_train)
    member_acc = (ensemble_logits.argmax(-1) == y_train).float().mean(1)
    ensemble_acc = (ensemble_logits.softmax(-1).mean(0).argmax(-1) == y_train).float().mean()
print(f"member accuracies {member_acc.tolist()}, ensemble accuracy {ensemble_acc.item():.3f}")
