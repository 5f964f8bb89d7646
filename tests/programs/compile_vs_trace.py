"""The "Introduction to torch.compile" tutorial's comparison with TorchScript and FX tracing
and its end-to-end section, as written for PyTorch: a function with a data-dependent branch
traced by ``torch.jit.trace`` (a TracerWarning, then silently wrong on the other branch),
refused by ``torch.fx.symbolic_trace`` (the error people search for), specialised with
``concrete_args`` (right for one sign only), and right either way under ``torch.compile``;
``torch.jit.script`` of the same function; then an eager-vs-compiled evaluation
(``mode="reduce-overhead"`` after ``torch._dynamo.reset()``) and a compiled training step
(``opt.zero_grad(True)``), timed with ``time.perf_counter`` as on CPU and compared with the
eager results."""

import time
import warnings

import torch
import torch._dynamo
import torch.nn as nn
import torch.nn.functional as F


def f1(x, y):
    if x.sum() < 0:
        return -y
    return y


# Test that `fn1` and `fn2` return the same result, given
# the same arguments `args`. Typically, `fn1` will be an eager function
# while `fn2` will be a compiled function (torch.compile, TorchScript, or FX graph).
def test_fns(fn1, fn2, args):
    out1 = fn1(*args)
    out2 = fn2(*args)
    return torch.allclose(out1, out2)


torch.manual_seed(0)
inp1 = torch.randn(5, 5)
inp2 = torch.randn(5, 5)
inp1 = inp1 if inp1.sum() > 0 else -inp1  # the traced example takes the `return y` branch

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    traced_f1 = torch.jit.trace(f1, (inp1, inp2))
tracer_warnings = [type(w.message).__name__ for w in caught if "Tracer" in type(w.message).__name__]
results = {
    "traced 1, 1": test_fns(f1, traced_f1, (inp1, inp2)),
    "traced 1, 2": test_fns(f1, traced_f1, (-inp1, inp2)),
}

try:
    torch.fx.symbolic_trace(f1)
    fx_error = None
except Exception as e:
    fx_error = [type(e).__name__, str(e).split("\n")[0]]

fx_f1 = torch.fx.symbolic_trace(f1, concrete_args={"x": inp1})
results["fx 1, 1"] = test_fns(f1, fx_f1, (inp1, inp2))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        results["fx 1, 2"] = test_fns(f1, fx_f1, (-inp1, inp2))
    except Exception as e:  # the concrete value is checked by a guard assertion
        results["fx 1, 2"] = type(e).__name__

compile_f1 = torch.compile(f1)
results["compile 1, 1"] = test_fns(f1, compile_f1, (inp1, inp2))
results["compile 1, 2"] = test_fns(f1, compile_f1, (-inp1, inp2))

script_f1 = torch.jit.script(f1)
results["script 1, 1"] = test_fns(f1, script_f1, (inp1, inp2))
results["script 1, 2"] = test_fns(f1, script_f1, (-inp1, inp2))
print(results)


# end-to-end: a small CNN, eager vs compiled, evaluation and training
def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def generate_data(b):
    return (torch.randn(b, 3, 8, 8), torch.randint(4, (b,)))


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def init_model():
    torch.manual_seed(1)
    return MyModel()


def evaluate(mod, inp):
    return mod(inp)


model = init_model()
model.eval()
# Reset since we are using a different mode.
torch._dynamo.reset()
evaluate_opt = torch.compile(evaluate, mode="reduce-overhead")
inp = generate_data(4)[0]
with torch.no_grad():
    eager_out, eager_time = timed(lambda: evaluate(model, inp))
    compiled_out, compile_time = timed(lambda: evaluate_opt(model, inp))
eval_gap = (eager_out - compiled_out).abs().max().item()
timings_positive = eager_time > 0 and compile_time > 0


def train_losses(compiled):
    model = init_model()
    opt = torch.optim.Adam(model.parameters())

    def train(mod, data):
        opt.zero_grad(True)
        pred = mod(data[0])
        loss = torch.nn.CrossEntropyLoss()(pred, data[1])
        loss.backward()
        opt.step()
        return loss

    step = torch.compile(train, mode="reduce-overhead") if compiled else train
    torch.manual_seed(2)
    batches = [generate_data(8) for _ in range(3)]
    return [step(model, data).item() for data in batches]


eager_losses = train_losses(False)
compiled_losses = train_losses(True)
