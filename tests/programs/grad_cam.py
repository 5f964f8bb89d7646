"""Grad-CAM (Selvaraju et al. 2017), saliency maps and integrated gradients as people write them
for PyTorch: a small CNN trained on synthetic images, a forward hook keeping the last conv
block's activations and a full backward hook keeping their gradients (and the deprecated
register_backward_hook form), the class activation map upsampled with F.interpolate, a vanilla
saliency map from input gradients, and integrated gradients along a straight path."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
size = 16


def make_data(n):
    """A bright 4x4 patch somewhere on a noisy image; class 1 if it is red, 0 if green."""
    x = 0.2 * torch.rand(n, 3, size, size)
    y = torch.randint(0, 2, (n,))
    where = torch.randint(0, size - 4, (n, 2))
    for i in range(n):
        r, c = where[i].tolist()
        channel = 0 if y[i] == 1 else 1
        x[i, channel, r : r + 4, c : c + 4] = 1.0
    return x, y, where


x_train, y_train, _ = make_data(512)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
        )
        self.classifier = nn.Linear(32, 2)

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x)


model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
for epoch in range(4):
    perm = torch.randperm(len(x_train))
    for i in range(0, len(x_train), 64):
        idx = perm[i : i + 64]
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: loss {loss.item():.4f}")
model.eval()


class GradCAM:
    def __init__(self, model, target_layer, legacy=False):
        self.model = model
        self.activations = None
        self.gradients = None
        self.handles = [target_layer.register_forward_hook(self.save_activation)]
        if legacy:
            self.handles.append(target_layer.register_backward_hook(self.save_gradient))
        else:
            self.handles.append(target_layer.register_full_backward_hook(self.save_gradient))

    def save_activation(self, module, input, output):
        self.activations = output.detach()

    def save_gradient(self, module, grad_input, grad_output):
        self.gradients = grad_output[0].detach()

    def __call__(self, x, class_idx=None):
        self.model.zero_grad()
        logits = self.model(x)
        if class_idx is None:
            class_idx = logits.argmax(dim=1)
        score = logits.gather(1, class_idx.view(-1, 1)).sum()
        score.backward()
        weights = self.gradients.mean(dim=(2, 3), keepdim=True)  # global-average the gradients
        cam = F.relu((weights * self.activations).sum(dim=1, keepdim=True))
        cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
        cam_min = cam.flatten(1).min(dim=1)[0].view(-1, 1, 1, 1)
        cam_max = cam.flatten(1).max(dim=1)[0].view(-1, 1, 1, 1)
        return ((cam - cam_min) / (cam_max - cam_min + 1e-8)).squeeze(1), logits

    def remove(self):
        for h in self.handles:
            h.remove()


x_test, y_test, where = make_data(32)
target_layer = model.features[3]
cam_maker = GradCAM(model, target_layer)
cams, logits = cam_maker(x_test)
accuracy = (logits.argmax(1) == y_test).float().mean().item()


def peak_distance(maps):
    """Distance (in pixels) from each map's maximum to the centre of the patch."""
    flat = maps.flatten(1).argmax(1)
    rows, cols = flat // size, flat % size
    centre = where.float() + 1.5
    return ((rows.float() - centre[:, 0]) ** 2 + (cols.float() - centre[:, 1]) ** 2).sqrt()


cam_distance = peak_distance(cams)
cam_maker.remove()
# PyTorch refuses both kinds of backward hook on one module, even after removal (and a deep
# copy keeps that): load the weights into a new model
model_copy = Net()
model_copy.load_state_dict(copy.deepcopy(model.state_dict()))
model_copy.eval()
legacy = GradCAM(model_copy, model_copy.features[3], legacy=True)
legacy_cams, _ = legacy(x_test)
legacy.remove()
legacy_gap = (legacy_cams - cams).abs().max().item()
hooks_left = len(target_layer._forward_hooks) + len(target_layer._backward_hooks)

# Vanilla saliency: |d score / d input|, max over channels
x = x_test.clone().requires_grad_(True)
scores = model(x)
scores.gather(1, y_test.view(-1, 1)).sum().backward()
saliency, _ = x.grad.data.abs().max(dim=1)
saliency_distance = peak_distance(saliency)


# Integrated gradients from a black baseline, for the first test image
def integrated_gradients(inputs, target, baseline=None, steps=32):
    if baseline is None:
        baseline = torch.zeros_like(inputs)
    alphas = torch.linspace(0, 1, steps).view(-1, 1, 1, 1)
    path = (baseline + alphas * (inputs - baseline)).requires_grad_(True)
    out = model(path)[:, target].sum()
    (grads,) = torch.autograd.grad(out, path)
    avg_grads = (grads[:-1] + grads[1:]).mean(dim=0) / 2  # trapezoid rule
    return (inputs - baseline).squeeze(0) * avg_grads


ig = integrated_gradients(x_test[:1], y_test[0].item())
with torch.no_grad():
    target = y_test[0].item()
    completeness = (
        model(x_test[:1])[0, target] - model(torch.zeros_like(x_test[:1]))[0, target]
    ).item()
print(f"accuracy {accuracy:.3f}, Grad-CAM peak distance {cam_distance.median().item():.2f}")
print(f"IG sum {ig.sum().item():.4f} vs score difference {completeness:.4f}")
