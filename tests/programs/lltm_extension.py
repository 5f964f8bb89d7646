"""The "Custom C++ and CUDA Extensions" tutorial's LLTM, as written for PyTorch: the pure
Python ``LLTM`` module (``torch.cat``, ``F.linear``, ``chunk(3, dim=1)``, sigmoid gates and an
ELU candidate cell), then the extension's forward and backward (``torch.addmm``, the
hand-derived ``d_sigmoid``/``d_tanh``/``d_elu``, ``d_gates.t().mm(X)``, a bias gradient kept
as ``sum(0, keepdim=True)``, which autograd reduces to the bias's shape) ported from C++ to
torch calls behind a ``torch.autograd.Function`` with ``save_for_backward``; the tutorial's
``grad_check.py`` (``gradcheck`` in float64), its forward/backward benchmark loop, and a few
training steps of both versions on a toy sequence task."""

import math
import time
import types

import torch
import torch.nn.functional as F
from torch.autograd import Function, gradcheck

torch.manual_seed(42)


class LLTM(torch.nn.Module):
    def __init__(self, input_features, state_size):
        super(LLTM, self).__init__()
        self.input_features = input_features
        self.state_size = state_size
        # 3 * state_size for input gate, output gate and candidate cell gate.
        self.weights = torch.nn.Parameter(torch.empty(3 * state_size, input_features + state_size))
        self.bias = torch.nn.Parameter(torch.empty(3 * state_size))
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.state_size)
        for weight in self.parameters():
            weight.data.uniform_(-stdv, +stdv)

    def forward(self, input, state):
        old_h, old_cell = state
        X = torch.cat([old_h, input], dim=1)
        gate_weights = F.linear(X, self.weights, self.bias)
        gates = gate_weights.chunk(3, dim=1)
        input_gate = torch.sigmoid(gates[0])
        output_gate = torch.sigmoid(gates[1])
        candidate_cell = F.elu(gates[2])
        new_cell = old_cell + candidate_cell * input_gate
        new_h = torch.tanh(new_cell) * output_gate
        return new_h, new_cell


def d_sigmoid(z):
    s = torch.sigmoid(z)
    return (1 - s) * s


def d_tanh(z):
    return 1 - z.tanh().pow(2)


def d_elu(z, alpha=1.0):
    e = z.exp()
    mask = (alpha * (e - 1)) < 0
    return (z > 0).type_as(z) + mask.type_as(z) * (alpha * e)


def lltm_forward(input, weights, bias, old_h, old_cell):
    X = torch.cat([old_h, input], dim=1)
    gate_weights = torch.addmm(bias, X, weights.transpose(0, 1))
    gates = gate_weights.chunk(3, dim=1)
    input_gate, output_gate = torch.sigmoid(gates[0]), torch.sigmoid(gates[1])
    candidate_cell = F.elu(gates[2], alpha=1.0)
    new_cell = old_cell + candidate_cell * input_gate
    new_h = torch.tanh(new_cell) * output_gate
    return [new_h, new_cell, input_gate, output_gate, candidate_cell, X, gate_weights]


def lltm_backward(
    grad_h, grad_cell, new_cell, input_gate, output_gate, candidate_cell, X, gate_weights, weights
):
    d_output_gate = torch.tanh(new_cell) * grad_h
    d_tanh_new_cell = output_gate * grad_h
    d_new_cell = d_tanh(new_cell) * d_tanh_new_cell + grad_cell
    d_old_cell = d_new_cell
    d_candidate_cell = input_gate * d_new_cell
    d_input_gate = candidate_cell * d_new_cell
    gates = gate_weights.chunk(3, dim=1)
    d_input_gate *= d_sigmoid(gates[0])
    d_output_gate *= d_sigmoid(gates[1])
    d_candidate_cell *= d_elu(gates[2])
    d_gates = torch.cat([d_input_gate, d_output_gate, d_candidate_cell], dim=1)
    d_weights = d_gates.t().mm(X)
    d_bias = d_gates.sum(dim=0, keepdim=True)
    d_X = d_gates.mm(weights)
    state_size = grad_h.size(1)
    d_old_h, d_input = d_X[:, :state_size], d_X[:, state_size:]
    return [d_old_h, d_input, d_weights, d_bias, d_old_cell]


lltm_cpp = types.SimpleNamespace(forward=lltm_forward, backward=lltm_backward)


class LLTMFunction(Function):
    @staticmethod
    def forward(ctx, input, weights, bias, old_h, old_cell):
        outputs = lltm_cpp.forward(input, weights, bias, old_h, old_cell)
        new_h, new_cell = outputs[:2]
        variables = outputs[1:] + [weights]
        ctx.save_for_backward(*variables)
        return new_h, new_cell

    @staticmethod
    def backward(ctx, grad_h, grad_cell):
        outputs = lltm_cpp.backward(grad_h.contiguous(), grad_cell.contiguous(), *ctx.saved_tensors)
        d_old_h, d_input, d_weights, d_bias, d_old_cell = outputs
        return d_input, d_weights, d_bias, d_old_h, d_old_cell


class LLTMExtension(LLTM):
    def forward(self, input, state):
        return LLTMFunction.apply(input, self.weights, self.bias, *state)


batch_size, input_features, state_size = 4, 6, 5
X = torch.randn(batch_size, input_features)
h = torch.randn(batch_size, state_size)
C = torch.randn(batch_size, state_size)
rnn = LLTM(input_features, state_size)
ext = LLTMExtension(input_features, state_size)
ext.load_state_dict(rnn.state_dict())

forward, backward = 0.0, 0.0
grads = {}
for name, model in (("python", rnn), ("extension", ext)):
    for _ in range(5):
        start = time.time()
        new_h, new_C = model(X, (h, C))
        forward += time.time() - start
        start = time.time()
        (new_h.sum() + new_C.sum()).backward()
        backward += time.time() - start
    grads[name] = [model.weights.grad.clone(), model.bias.grad.clone()]
    model.zero_grad()
print(f"Forward: {forward * 1e6 / 1e5:.3f} us | Backward {backward * 1e6 / 1e5:.3f} us")
grad_fn_name = type(new_h.grad_fn).__name__
outputs_agree = [torch.allclose(a, b) for a, b in zip(rnn(X, (h, C)), ext(X, (h, C)))]
grads_agree = [torch.allclose(a, b, atol=1e-6) for a, b in zip(grads["python"], grads["extension"])]
bias_grad_shape = tuple(grads["extension"][1].shape)

kwargs = {"dtype": torch.float64, "requires_grad": True}
variables = [
    torch.randn(3, 4, **kwargs),
    torch.randn(15, 9, **kwargs),
    torch.randn(15, **kwargs),
    torch.randn(3, 5, **kwargs),
    torch.randn(3, 5, **kwargs),
]
gradcheck_ok = gradcheck(LLTMFunction.apply, variables)
print("Ok" if gradcheck_ok else "Failed")

sequence = torch.randn(6, batch_size, input_features)
target = sequence.cumsum(0)[-1, :, :state_size].tanh()
losses = {}
for name, model in (("python", rnn), ("extension", ext)):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    losses[name] = []
    for step in range(8):
        state = (torch.zeros(batch_size, state_size), torch.zeros(batch_size, state_size))
        for x_t in sequence:
            state = model(x_t, state)
        loss = F.mse_loss(state[0], target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses[name].append(loss.item())
