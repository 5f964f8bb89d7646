"""The "Creating Extensions Using NumPy and SciPy" tutorial, as written for PyTorch: a
parameter-less ``BadFFTFunction`` (``numpy.fft.rfft2``/``irfft2`` on ``detach().numpy()``,
results wrapped with ``input.new(ndarray)``), and a ``ScipyConv2dFunction`` with a learnable
filter and bias (``scipy.signal.correlate2d``/``convolve2d``, ``save_for_backward`` of detached
inputs, gradients returned as float64 arrays from ``torch.from_numpy`` for float32 inputs, which
autograd casts back, and a ``keepdims`` bias gradient) wrapped in a ``Module`` with
``Parameter``s; ``gradcheck`` on the module in float64, the output checked against
``F.conv2d``, and the filter fitted to a target filter by SGD."""

import numpy as np
import torch
import torch.nn.functional as F
from numpy.fft import irfft2, rfft2
from scipy.signal import convolve2d, correlate2d
from torch.autograd import Function
from torch.autograd.gradcheck import gradcheck
from torch.nn.modules.module import Module
from torch.nn.parameter import Parameter

torch.manual_seed(0)


class BadFFTFunction(Function):
    @staticmethod
    def forward(ctx, input):
        numpy_input = input.detach().numpy()
        result = abs(rfft2(numpy_input))
        return input.new(result)

    @staticmethod
    def backward(ctx, grad_output):
        numpy_go = grad_output.numpy()
        result = irfft2(numpy_go)
        return grad_output.new(result)


def incorrect_fft(input):
    return BadFFTFunction.apply(input)


input = torch.randn(8, 8, requires_grad=True)
result = incorrect_fft(input)
print(result)
result.backward(torch.randn(result.size()))
print(input)
fft_summary = (
    tuple(result.shape),
    str(result.dtype),
    result.requires_grad,
    type(result.grad_fn).__name__,
    tuple(input.grad.shape),
    str(input.grad.dtype),
)
fft_values = [result.sum().item(), input.grad.abs().sum().item()]


class ScipyConv2dFunction(Function):
    @staticmethod
    def forward(ctx, input, filter, bias):
        # detach so we can cast to NumPy
        input, filter, bias = input.detach(), filter.detach(), bias.detach()
        result = correlate2d(input.numpy(), filter.numpy(), mode="valid")
        result += bias.numpy()
        ctx.save_for_backward(input, filter, bias)
        return torch.as_tensor(result, dtype=input.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        grad_output = grad_output.detach()
        input, filter, bias = ctx.saved_tensors
        grad_output = grad_output.numpy()
        grad_bias = np.sum(grad_output, keepdims=True)
        grad_input = convolve2d(grad_output, filter.numpy(), mode="full")
        grad_filter = correlate2d(input.numpy(), grad_output, mode="valid")
        return (
            torch.from_numpy(grad_input),
            torch.from_numpy(grad_filter).to(torch.float),
            torch.from_numpy(grad_bias).to(torch.float),
        )


class ScipyConv2d(Module):
    def __init__(self, filter_width, filter_height):
        super(ScipyConv2d, self).__init__()
        self.filter = Parameter(torch.randn(filter_width, filter_height))
        self.bias = Parameter(torch.randn(1, 1))

    def forward(self, input):
        return ScipyConv2dFunction.apply(input, self.filter, self.bias)


module = ScipyConv2d(3, 3)
print("Filter and bias: ", list(module.parameters()))
input = torch.randn(10, 10, requires_grad=True)
output = module(input)
print("Output from the convolution: ", output)
output.backward(torch.randn(8, 8))
print("Gradient for the input map: ", input.grad)
conv_grads = {
    "input": (str(input.grad.dtype), input.grad.sum().item()),
    "filter": (str(module.filter.grad.dtype), module.filter.grad.tolist()),
    "bias": (tuple(module.bias.grad.shape), module.bias.grad.item()),
}
reference = F.conv2d(input[None, None], module.filter[None, None], module.bias[0])[0, 0]
matches_conv2d = torch.allclose(output, reference, atol=1e-5)

moduleConv = ScipyConv2d(3, 3)
input = [torch.randn(20, 20, dtype=torch.double, requires_grad=True)]
test = gradcheck(moduleConv, input, eps=1e-6, atol=1e-4)
print("Are the gradients correct: ", test)

target_filter = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
images = torch.randn(6, 10, 10)
targets = [
    torch.as_tensor(correlate2d(image.numpy(), target_filter.numpy(), mode="valid"))
    for image in images
]
optimizer = torch.optim.SGD(module.parameters(), lr=0.01)
fit_losses = []
for epoch in range(15):
    loss = 0
    for image, target in zip(images, targets):
        loss = loss + F.mse_loss(module(image), target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    fit_losses.append(loss.item())
filter_error = (module.filter - target_filter).abs().max().item()
