"""Saliency maps as the ``pytorch-cnn-visualizations`` repository and Captum write them: vanilla
gradients of the class score, SmoothGrad (the mean gradient over noisy copies, noise std a
fraction of the input range, also SmoothGrad-squared), guided backpropagation and the
deconvnet, both by ``register_full_backward_hook`` on every ``nn.ReLU`` (the hook returns a new
``grad_input`` tuple: clamped to positive gradients, times the forward mask saved by a
``register_forward_hook``; an in-place ReLU is refused, as autograd refuses it), gradient *
input, the hooks removed afterwards and the model
restored (a plain gradient again), all in float64 on a small trained CNN."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 8, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 2)
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def make_data(n):  # class 1: a bright square in the top-left quadrant; class 0: bottom-right
    y = torch.arange(n) % 2
    x = 0.2 * torch.rand(n, 1, 8, 8)
    for i in range(n):
        r = 1 if y[i] == 1 else 5
        x[i, 0, r : r + 2, r : r + 2] += 1.0
    return x, y


x, y = make_data(32)
model = CNN()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for _ in range(30):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
final_loss = loss.item()
model.eval()


def vanilla_gradient(model, image, target):
    image = image.clone().requires_grad_(True)
    output = model(image)
    model.zero_grad()
    one_hot = torch.zeros_like(output)
    one_hot[0][target] = 1
    output.backward(gradient=one_hot)
    return image.grad.data[0]


def smooth_grad(model, image, target, n=12, noise_level=0.15, squared=False):
    sigma = noise_level * (image.max() - image.min()).item()
    total = torch.zeros_like(image[0])
    gen = torch.Generator().manual_seed(5)
    for _ in range(n):
        noisy = image + torch.randn(image.size(), generator=gen) * sigma
        grad = vanilla_gradient(model, noisy, target)
        total += grad * grad if squared else grad
    return total / n


class GuidedBackprop:
    def __init__(self, model, deconv=False):
        self.model, self.deconv, self.forward_relu_outputs, self.handles = model, deconv, [], []
        for module in model.modules():
            if isinstance(module, nn.ReLU):
                self.handles.append(module.register_forward_hook(self.relu_forward_hook))
                self.handles.append(module.register_full_backward_hook(self.relu_backward_hook))

    def relu_forward_hook(self, module, ten_in, ten_out):
        self.forward_relu_outputs.append(ten_out)

    def relu_backward_hook(self, module, grad_in, grad_out):
        if self.deconv:  # the deconvnet ignores the forward mask
            return (torch.clamp(grad_out[0], min=0.0),)
        corresponding_forward_output = self.forward_relu_outputs[-1]
        corresponding_forward_output[corresponding_forward_output > 0] = 1
        modified_grad_out = corresponding_forward_output * torch.clamp(grad_in[0], min=0.0)
        del self.forward_relu_outputs[-1]
        return (modified_grad_out,)

    def generate_gradients(self, image, target):
        return vanilla_gradient(self.model, image, target)

    def remove(self):
        for handle in self.handles:
            handle.remove()


def quadrant_share(saliency, target):  # fraction of |saliency| on the class's square
    r = 1 if target == 1 else 5
    a = saliency.abs()[0]
    return (a[r : r + 2, r : r + 2].sum() / a.sum()).item()


results = {}
for i in (0, 1):
    image, target = x[i : i + 1], int(y[i])
    maps = {
        "vanilla": vanilla_gradient(model, image, target),
        "smooth": smooth_grad(model, image, target),
        "smooth_sq": smooth_grad(model, image, target, squared=True),
    }
    maps["grad_x_input"] = maps["vanilla"] * image[0]
    gbp = GuidedBackprop(model)
    maps["guided"] = gbp.generate_gradients(image, target)
    left_over = len(gbp.forward_relu_outputs)
    gbp.remove()
    dec = GuidedBackprop(model, deconv=True)
    maps["deconv"] = dec.generate_gradients(image, target)
    dec.remove()
    results[i] = {
        k: (v.sum().item(), v.abs().max().item(), quadrant_share(v, target))
        for k, v in maps.items()
    }
    results[i]["left_over"] = left_over
    results[i]["guided_nonneg_frac"] = (maps["guided"] >= 0).double().mean().item()

restored = vanilla_gradient(model, x[:1], int(y[0]))
restored_equal = torch.equal(restored, vanilla_gradient(model, x[:1], int(y[0])))
hooks_left = sum(len(m._backward_hooks) + len(m._forward_hooks) for m in model.modules())

# the well-known gotcha: a full backward hook on an in-place ReLU is refused by autograd
inplace_net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(inplace=True))
gbp = GuidedBackprop(inplace_net)
try:
    inplace_net(torch.randn(1, 4, requires_grad=True))
    inplace_error = None
except RuntimeError as e:
    inplace_error = str(e).split(".")[0]
gbp.remove()
torch.set_default_dtype(torch.float32)
