"""The "Introduction to TorchScript" tutorial, as written for PyTorch: ``MyCell`` with a
``MyDecisionGate`` that branches on ``x.sum() > 0``, ``torch.jit.trace`` of the cell (the
``TracerWarning`` about converting a tensor to a Python boolean, the traced module's repr and
class), ``torch.jit.script`` of the gate and of a cell holding it (both branches taken), a
``MyRNNLoop`` that scripts a loop over a traced cell, the ``WrapRNN`` mixing script and trace,
and ``save``/``torch.jit.load`` of the result in a temporary directory, the loaded module
checked against the original on inputs that take either branch. (The tutorial also prints
``.code``: TorchScript's compiled source, which minigrad does not have.)"""

import os
import tempfile
import warnings

import torch

torch.manual_seed(0)


class MyDecisionGate(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        else:
            return -x


class MyCell(torch.nn.Module):
    def __init__(self, dg):
        super(MyCell, self).__init__()
        self.dg = dg
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h


my_cell = MyCell(MyDecisionGate())
x, h = torch.rand(3, 4), torch.rand(3, 4)
eager = my_cell(x, h)[0]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    traced_cell = torch.jit.trace(my_cell, (x, h))
tracer_warnings = sorted(
    {str(w.message)[:60] for w in caught if "Tracer" in type(w.message).__name__}
)
traced_repr = repr(traced_cell)
traced_class = type(traced_cell).__name__
traced_gap = (traced_cell(x, h)[0] - eager).abs().max().item()

scripted_gate = torch.jit.script(MyDecisionGate())
my_cell = MyCell(scripted_gate)
scripted_cell = torch.jit.script(my_cell)
scripted_class = type(scripted_cell).__name__
branches = [scripted_cell(x, h)[0].sum().item(), scripted_cell(-5 * x, h)[0].sum().item()]
gate_outputs = [scripted_gate(torch.ones(2)).tolist(), scripted_gate(-torch.ones(2)).tolist()]


class MyRNNLoop(torch.nn.Module):
    def __init__(self):
        super(MyRNNLoop, self).__init__()
        self.cell = torch.jit.trace(MyCell(scripted_gate), (x, h))

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h


rnn_loop = torch.jit.script(MyRNNLoop())


class WrapRNN(torch.nn.Module):
    def __init__(self):
        super(WrapRNN, self).__init__()
        self.loop = torch.jit.script(MyRNNLoop())

    def forward(self, xs):
        y, h = self.loop(xs)
        return torch.relu(y)


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    xs = torch.rand(10, 3, 4)
    traced = torch.jit.trace(WrapRNN(), (xs))
folder = tempfile.mkdtemp()
try:
    traced.save(os.path.join(folder, "wrapped_rnn.pt"))
    loaded = torch.jit.load(os.path.join(folder, "wrapped_rnn.pt"))
finally:
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)
loaded_repr = repr(loaded)
loaded_sums = [loaded(xs).sum().item(), loaded(-xs).sum().item()]
loaded_gaps = [(loaded(v) - traced(v)).abs().max().item() for v in (xs, -xs)]
loop_out = rnn_loop(xs)[1][0].tolist()
