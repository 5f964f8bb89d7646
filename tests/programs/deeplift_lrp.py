"""DeepLIFT (Shrikumar et al.) with the Rescale rule and layer-wise relevance propagation
(Bach et al.), implemented the way Captum does: the inputs and the baselines run in one batch
(``torch.cat``), forward hooks on every nonlinearity keep its input and output, and
``register_full_backward_hook`` replaces the nonlinearity's ``grad_input`` by the multiplier
``(out - out_ref) / (in - in_ref) * grad_output`` (falling back to the gradient where the
difference is tiny), so that ``torch.autograd.grad`` yields the multipliers; the attributions
then satisfy summation-to-delta exactly (checked in float64). LRP's epsilon rule is built the
same way with hooks on ``nn.Linear`` (``z = W a + b``, ``s = R / (z + eps * sign(z))``,
relevance ``a * (W^T s)``), and both are compared with gradient * input on a trained MLP."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

model = nn.Sequential(nn.Linear(5, 12), nn.ReLU(), nn.Linear(12, 8), nn.Sigmoid(), nn.Linear(8, 2))
x = torch.randn(64, 5)
y = ((x[:, 0] + 2 * x[:, 1] - x[:, 2]) > 0).long()
opt = torch.optim.Adam(model.parameters(), lr=0.02)
for _ in range(60):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
final_loss = loss.item()
accuracy = (model(x).argmax(1) == y).double().mean().item()


class DeepLift:
    def __init__(self, model, eps=1e-10):
        self.model, self.eps, self.saved, self.handles = model, eps, {}, []

    def _forward_hook(self, module, inputs, output):
        self.saved[module] = (inputs[0].detach(), output.detach())

    def _backward_hook(self, module, grad_input, grad_output):
        inp, out = self.saved[module]
        n = inp.shape[0] // 2
        delta_in = (inp[:n] - inp[n:]).repeat(2, *[1] * (inp.dim() - 1))
        delta_out = (out[:n] - out[n:]).repeat(2, *[1] * (out.dim() - 1))
        multiplier = torch.where(
            delta_in.abs() < self.eps, grad_input[0], grad_output[0] * delta_out / delta_in
        )
        return (multiplier,)

    def attribute(self, inputs, baselines, target):
        for module in self.model.modules():
            if isinstance(module, (nn.ReLU, nn.Sigmoid)):
                self.handles.append(module.register_forward_hook(self._forward_hook))
                self.handles.append(module.register_full_backward_hook(self._backward_hook))
        try:
            both = torch.cat([inputs, baselines]).requires_grad_()
            out = self.model(both)[:, target].sum()
            (grads,) = torch.autograd.grad(out, both)
        finally:
            for handle in self.handles:
                handle.remove()
            self.handles.clear()
        n = inputs.shape[0]
        return grads[:n] * (inputs - baselines)


class LRP:
    def __init__(self, model, epsilon=1e-6):
        self.model, self.epsilon = model, epsilon

    def attribute(self, inputs, target):
        activations = [inputs]
        with torch.no_grad():
            for layer in self.model:
                activations.append(layer(activations[-1]))
        relevance = torch.zeros_like(activations[-1])
        relevance[:, target] = activations[-1][:, target]
        for layer, a in zip(reversed(self.model), reversed(activations[:-1])):
            if isinstance(layer, nn.Linear):
                z = F.linear(a, layer.weight, layer.bias)
                s = relevance / (z + self.epsilon * torch.sign(z))
                relevance = a * (s @ layer.weight)
        return relevance


inputs = x[:8]
baselines = torch.zeros_like(inputs)
target = 1
dl = DeepLift(model).attribute(inputs, baselines, target)
with torch.no_grad():
    delta = model(inputs)[:, target] - model(baselines)[:, target]
summation_error = (dl.sum(1) - delta).abs().max().item()
hooks_left = sum(len(m._forward_hooks) + len(m._backward_hooks) for m in model.modules())

xi = inputs.clone().requires_grad_()
(g,) = torch.autograd.grad(model(xi)[:, target].sum(), xi)
grad_x_input = g * inputs
lrp = LRP(model).attribute(inputs, target)
with torch.no_grad():
    lrp_conservation = (lrp.sum(1) / model(inputs)[:, target]).tolist()

attributions = {
    "deeplift": dl.tolist(),
    "grad_x_input": grad_x_input.tolist(),
    "lrp": lrp.tolist(),
}
top_feature = {k: torch.tensor(v).abs().mean(0).argmax().item() for k, v in attributions.items()}
torch.set_default_dtype(torch.float32)
