"""The README's Python snippets, run as a reader runs them, so that the README cannot rot.

Each ```python block of README.md is found by a marker (a piece of its text) and run in a fresh
namespace that holds what a reader has at that point: the names "A first model" defines
(``model``, ``x``, ``y``, ``loss_fn``, ``optimizer``, untrained) plus the few a fragment leaves
to the reader (``q, k, v`` for attention, ``policy`` and ``state`` for REINFORCE, ...), made
here. Blocks that need a GPU or several processes are listed in ``SKIPPED`` with the reason; a
new block that is in neither list fails ``test_every_snippet_is_run_or_skipped_with_a_reason``.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
import types
from pathlib import Path

import pytest

import minigrad

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _snippets() -> list[str]:
    """The README's ```python blocks, in order."""
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), re.S | re.M)


def _snippet(marker: str) -> str:
    found = [s for s in _snippets() if marker in s]
    assert len(found) == 1, f"{len(found)} README snippets contain {marker!r}"
    return found[0]


FIRST_MODEL = "optimizer = optim.Adam(model.parameters(), lr=0.05)"


def _reader_namespace(setup: str) -> dict:
    """What a reader has after "A first model" (set up, not trained), then ``setup`` run: the
    globals of an importable module ``readme_snippet``, as a reader's script is, so that
    ``minigrad.save`` finds the classes it defines."""
    module = types.ModuleType("readme_snippet")
    sys.modules["readme_snippet"] = module
    ns = module.__dict__
    ns["Path"] = Path
    exec("import minigrad\nimport minigrad.nn.functional as F\n", ns)
    exec(_snippet(FIRST_MODEL).split("\nfor step in")[0], ns)
    exec(setup, ns)
    return ns


NET = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 16)
        self.fc2 = nn.Linear(16, 2)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
"""

LOADER = "minigrad.utils.data.DataLoader(minigrad.utils.data.TensorDataset(x, y), batch_size=64)"

# marker -> (what the reader supplies, a check of what the README's comments say)
RUN = {
    "minigrad.autograd.grad(y, x, create_graph=True)": (
        "",
        "assert dy.item() == 32 and d2y.item() == 48",
    ),
    "gradcheck(lambda t: t.tanh().sum(1), (x,))": ("", ""),
    "minigrad.linalg.cholesky(spd)": ("", "assert a.grad.shape == (3, 3)"),
    "y = minigrad.fft.irfft(": (
        "",
        "assert weights.grad.dtype is minigrad.complex64 and spectrogram.ndim == 3",
    ),
    "sdpa_kernel(SDPBackend.FLASH_ATTENTION)": (
        "q, k, v = minigrad.randn(3, 2, 4, 16, 8).unbind(0)",
        "assert y.shape == (2, 4, 16, 8)",
    ),
    "Categorical(logits=policy(state))": (
        "policy, state, advantage = nn.Linear(4, 3), minigrad.randn(5, 4), 1.0",
        "loss.backward(); assert policy.weight.grad is not None",
    ),
    "TransformedDistribution(Normal(mu, std)": (
        "mu, std = minigrad.zeros(3, 2, requires_grad=True), minigrad.ones(3, 2)",
        "assert log_prob.shape == (3,) and bool(action.abs().lt(1).all())",
    ),
    "fwAD.make_dual(x, v)": ("v = minigrad.randn_like(x)", "assert jv.shape == (256, 2)"),
    "vmap(grad(loss), in_dims=(None, 0, 0))": (
        "",
        "assert grads['0.weight'].shape == (256, 32, 2)",
    ),
    "@minigrad.compile": (
        f"opt, loader = optimizer, {LOADER}",
        "assert step.eager_reason is None and loss.ndim == 0",
    ),
    'minigrad.save(model, "net.mg")': (NET + "model = Net()", "assert isinstance(model, Net)"),
    'model.load_state_dict(minigrad.load("model.pt"': (
        # the README's model.pt comes from torch.save (tests/test_io.py reads such files)
        NET + "minigrad.save(Net().state_dict(), 'model.pt')",
        "assert all(p.requires_grad == ('lora' in n) for n, p in model.named_parameters())",
    ),
    "minigrad.onnx.export(": (
        "from minigrad.models import LeNet\nmodel, images = LeNet(), minigrad.randn(3, 1, 8, 8)",
        "assert logits.shape == (3, 10)",
    ),
    'SummaryWriter("runs/mlp")': (
        NET + f"model, loader, loss = Net(), {LOADER}, minigrad.tensor(1.0)",
        "assert Path('runs/mlp').is_dir()",
    ),
    'minigrad.viz.save_graph("step.svg"': ("", "assert Path('step.svg').stat().st_size > 0"),
    'GradScaler("cuda")': ("", "assert not scaler.is_enabled()"),
    "print(torch.rand(3))": (  # PyTorch's torch.rand(3) after torch.manual_seed(0)
        "",
        "torch.manual_seed(0)\n"
        "assert torch.rand(3).tolist() == [0.49625658988952637, 0.7682217955589294, "
        "0.08847743272781372]",
    ),
}

SKIPPED = {
    'device="cuda")  # CuPy array underneath': "needs a GPU",
    'dist.init_process_group("gloo")': "needs several processes (minigrad run -n 2 train.py)",
    "with model.join():": "needs several processes with uneven data (tests/join_checks.py runs it)",
    "    fully_shard(block)": "needs several processes (tests/fsdp_checks.py runs it on 2 ranks)",
    '"attn.o": Row()': "needs several processes (tests/tp_checks.py runs it on 2 ranks)",
    'checkpoint_id="ckpt")': "writes a folder; tests/dist20_program.py runs it on 2 ranks",
    "schedule = ScheduleGPipe(": "needs 2 processes (tests/dist20_program.py runs it on 2 ranks)",
}

NEEDS = {  # marker -> optional package (or program) it needs
    "minigrad.onnx.export(": "onnxruntime",
    'SummaryWriter("runs/mlp")': "tensorboard",
    'minigrad.viz.save_graph("step.svg"': "graphviz",
}


def test_every_snippet_is_run_or_skipped_with_a_reason():
    markers = [FIRST_MODEL, *RUN, *SKIPPED]
    for snippet in _snippets():
        matched = [m for m in markers if m in snippet]
        assert len(matched) == 1, f"README snippet matched by {matched}:\n{snippet}"


@pytest.mark.parametrize("marker", list(SKIPPED))
def test_skipped_snippet_is_valid_python(marker):
    compile(_snippet(marker), "README.md", "exec")
    pytest.skip(f"not run: {SKIPPED[marker]}")


def test_first_model_trains_and_is_examples_quickstart(capsys):
    code = _snippet(FIRST_MODEL)
    assert code.strip() in (ROOT / "examples" / "quickstart.py").read_text()
    ns = {"__name__": "readme_snippet"}
    exec(code, ns)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and lines[-1].startswith("step 200")
    assert ns["accuracy"].item() > 0.95


@pytest.mark.parametrize("marker", list(RUN))
def test_snippet_runs(marker, tmp_path, monkeypatch):
    if marker in NEEDS:
        pytest.importorskip(NEEDS[marker])
        if NEEDS[marker] == "graphviz" and shutil.which("dot") is None:
            pytest.skip("Graphviz's dot program is not installed")
    if marker == 'GradScaler("cuda")' and minigrad.cuda.is_available():
        pytest.skip("the snippet's model is on the CPU; on a GPU it expects a cuda model")
    monkeypatch.chdir(tmp_path)  # snippets write files (net.mg, step.svg, runs/, ...)
    setup, check = RUN[marker]
    ns = _reader_namespace(setup)
    if marker == 'GradScaler("cuda")':
        with pytest.warns(UserWarning, match="Disabling"):  # as PyTorch without CUDA
            exec(_snippet(marker), ns)
    else:
        exec(_snippet(marker), ns)
    exec(check, ns)


def test_autocast_for_cuda_without_a_gpu_warns_and_disables():
    """As PyTorch: a region for a device type with no device here is switched off, with a
    warning (the README's mixed-precision snippet on a CPU-only machine)."""
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is here")
    with pytest.warns(
        UserWarning, match="CUDA is not available or torch_xla is imported. Disabling autocast"
    ):
        region = minigrad.autocast("cuda", dtype=minigrad.float16)
    with region:
        assert not minigrad.amp.is_autocast_enabled("cuda")
    with pytest.warns(UserWarning, match="Disabling autocast"):
        decorated = minigrad.autocast("cuda")(lambda: minigrad.amp.is_autocast_enabled("cuda"))
    assert decorated() is False


def test_grad_fn_names_the_readme_gives():
    F = minigrad.nn.functional
    x = minigrad.randn(2, 3, requires_grad=True)
    w, b = minigrad.randn(4, 3), minigrad.randn(4)
    assert F.linear(x, w, b).grad_fn.name() == "AddmmBackward0"
    assert F.linear(x, w).grad_fn.name() == "MmBackward0"
    assert x[1].grad_fn.name() == "SelectBackward0"
    assert x.unsqueeze(1).squeeze().grad_fn.name() == "SqueezeBackward0"
    assert x.unsqueeze(1).squeeze(1).grad_fn.name() == "SqueezeBackward1"
    assert F.elu(x * 1, inplace=True).grad_fn.name() == "EluBackward1"
    assert x.topk(2).values.grad_fn.name() == "TopkBackward0"  # composed: PyTorch's one node
    text = README.read_text()
    for name in ("AddmmBackward0", "MmBackward0", "SelectBackward0", "`SqueezeBackward0`/`1`",
                 "`EluBackward1`", "`x.topk(2).values`: `TopkBackward0`"):  # fmt: skip
        assert name in text


def test_readme_figures_match_the_tables():
    from minigrad.testing.op_db_complex import COMPLEX_OPS

    text = README.read_text()
    rows, samples = re.search(r"op_db_complex\.py`: (\d+) rows, (\d+) samples", text).groups()
    assert (int(rows), int(samples)) == (len(COMPLEX_OPS), sum(len(r.samples) for r in COMPLEX_OPS))
    spec = importlib.util.spec_from_file_location("_readme_amp", ROOT / "tests" / "test_amp.py")
    amp_tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(amp_tests)
    ops = re.search(r"output dtype of (\d+) ops under CPU autocast", text).group(1)
    assert int(ops) == len(amp_tests.NAMES)
    from test_amp_cpu_policy import _cases

    more = re.search(r"and of (\d+) more cases in bfloat16", text).group(1)
    assert int(more) == len(_cases(minigrad))
    assert f"the {len(minigrad._out.NAMES)} functions that take it" in text


def test_benchmark_commands_the_readme_shows_take_help(capsys):
    """``python -m benchmarks.transforms --help`` describes it instead of running it."""
    from benchmarks import transforms

    with pytest.raises(SystemExit) as exit_info:
        transforms.main(["--help"])
    assert exit_info.value.code == 0
    assert "per-sample gradients" in capsys.readouterr().out
