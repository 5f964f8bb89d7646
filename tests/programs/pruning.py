"""The pruning tutorial (torch.nn.utils.prune) on LeNet: random_unstructured on a conv weight
(weight_orig + weight_mask buffers and a forward pre-hook), l1_unstructured on the bias,
iterative pruning with ln_structured (the masks compose), pruning parameters of a whole model,
global_unstructured across layers, remove() to make it permanent, a custom pruning method
(BasePruningMethod), and fine-tuning with masks kept in place."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class LeNet(nn.Module):
    def __init__(self):
        super(LeNet, self).__init__()
        # 1 input image channel, 6 output channels, 5x5 square conv kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5x5 image dimension
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


model = LeNet().to(device=device)
module = model.conv1
print([name for name, _ in module.named_parameters()], list(module.named_buffers()))

prune.random_unstructured(module, name="weight", amount=0.3)
print(list(module.named_parameters())[0][0], [n for n, _ in module.named_parameters()])
print([n for n, _ in module.named_buffers()])
print(module.weight.shape, module._forward_pre_hooks)
random_zeros = int((module.weight == 0).sum())

prune.l1_unstructured(module, name="bias", amount=3)
bias_zeros = int((module.bias == 0).sum())
kept_bias = module.bias_orig.abs()[module.bias_mask.bool()]
pruned_bias = module.bias_orig.abs()[~module.bias_mask.bool()]
l1_keeps_largest = bool(kept_bias.min() >= pruned_bias.max())

# Iterative pruning: prune 50% of the output channels by L2 norm, on top of the random mask
prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
channel_zero = (module.weight.flatten(1).abs().sum(1) == 0).sum().item()
for hook in module._forward_pre_hooks.values():
    if hook._tensor_name == "weight":  # select out the correct hook
        break
print(list(hook))  # pruning history in the container
history = [type(h).__name__ for h in hook]
print(model.state_dict().keys())

# Remove pruning re-parametrization: weight becomes a parameter again, zeros stay
prune.remove(module, "weight")
after_remove = sorted(n for n, _ in module.named_parameters())
remove_zeros = int((module.weight == 0).sum())

# Pruning multiple parameters in a model
new_model = LeNet()
for name, module in new_model.named_modules():
    # prune 20% of connections in all 2D-conv layers
    if isinstance(module, torch.nn.Conv2d):
        prune.l1_unstructured(module, name="weight", amount=0.2)
    # prune 40% of connections in all linear layers
    elif isinstance(module, torch.nn.Linear):
        prune.l1_unstructured(module, name="weight", amount=0.4)

print(dict(new_model.named_buffers()).keys())  # to verify that all masks exist

# Global pruning
model = LeNet()
parameters_to_prune = (
    (model.conv1, "weight"),
    (model.conv2, "weight"),
    (model.fc1, "weight"),
    (model.fc2, "weight"),
    (model.fc3, "weight"),
)
prune.global_unstructured(parameters_to_prune, pruning_method=prune.L1Unstructured, amount=0.2)
sparsities = {}
for name in ("conv1", "conv2", "fc1", "fc2", "fc3"):
    w = getattr(model, name).weight
    sparsities[name] = 100.0 * float(torch.sum(w == 0)) / float(w.nelement())
    print(f"Sparsity in {name}.weight: {sparsities[name]:.2f}%")
total = sum(float(torch.sum(m.weight == 0)) for m, _ in parameters_to_prune)
global_sparsity = 100.0 * total / sum(float(m.weight.nelement()) for m, _ in parameters_to_prune)
print(f"Global sparsity: {global_sparsity:.2f}%")


# Extending torch.nn.utils.prune with custom pruning functions
class FooBarPruningMethod(prune.BasePruningMethod):
    """Prune every other entry in a tensor"""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


def foobar_unstructured(module, name):
    FooBarPruningMethod.apply(module, name)
    return module


model2 = LeNet()
foobar_unstructured(model2.fc3, name="bias")
print(model2.fc3.bias_mask)
foobar_mask = model2.fc3.bias_mask.tolist()

# Fine-tune the globally pruned model: gradients flow to weight_orig, pruned weights stay zero
x = torch.randn(64, 1, 32, 32)
y = torch.randint(0, 10, (64,))
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
losses = []
for step in range(25):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
fine_tuned_sparsity = 100.0 * sum(float(torch.sum(m.weight == 0)) for m, _ in parameters_to_prune)
fine_tuned_sparsity /= sum(float(m.weight.nelement()) for m, _ in parameters_to_prune)
print(f"fine-tuning loss {losses[0]:.3f} -> {losses[-1]:.3f}, sparsity {fine_tuned_sparsity:.2f}%")
