"""Shared fixtures: the devices every device-aware test runs on, and ``import torch`` bound to
minigrad for the PyTorch programs in ``tests/programs``."""

import importlib
import sys
from pathlib import Path

import pytest

import minigrad
from minigrad._compile import program
from minigrad.testing import fake_device

fake_device.install()

DEVICES = ["cpu", "fakegpu"] + (["cuda"] if minigrad.cuda.is_available() else [])


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs CuPy and a CUDA device")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``-n N`` schedules by work stealing (an idle worker takes half of the other's queue):
    with xdist's default (``load``) the last tests sit in one worker's queue, and a whole-suite
    ``-n 2`` run ended with one worker idle while the other ran ~155 s of CPU work alone (the
    programs). The tests of :data:`SLOW_FIRST` are queued first. An explicit ``--dist``
    other than ``load`` is kept."""
    try:
        from xdist.scheduler import WorkStealingScheduling  # pytest-xdist >= 3.2
    except ImportError:
        return None
    if config.getvalue("dist") == "load":
        return WorkStealingScheduling(config, log)
    return None


# The slowest tests (CPU seconds measured one by one, most first, 2026-12-08; a subprocess's
# or PyTorch's compile workers' time makes some slower still by the clock). Under xdist they
# run first: started last, one of them would keep a worker busy after the other ran out of
# tests to steal. A renamed or removed test here is simply not found.
SLOW_FIRST = (
    "test_distributed.py::test_on_two_ranks",  # 11.4 s (all_reduce_ops_and_dtypes; MPI ranks)
    "test_torch_doc_examples.py::test_pytorch_docstring_examples_give_pytorchs_results",  # 9.3
    "test_examples.py::test_digit_classifiers_reach_their_accuracy_with_defaults",  # 7.3
    "test_dtensor.py::test_world_of_one",  # 6.9 (shards_and_replicas; a process)
    "test_benchmarks.py::test_benchmarks_run_and_write_json",  # 6.0
    "test_programs19a.py::test_compile_vs_trace_with_pytorch",  # 6.0
    "test_programs12b.py::test_longformer_window",  # 4.2
    "test_programs12b.py::test_albert_sop",  # 4.0
    "test_programs.py::test_learning_pytorch_with_examples",  # 3.9
    "test_onnx.py::test_every_op_table_op_exports_or_names_itself",  # 3.7
    "test_benchmarks.py::test_scaling_quick_prints_every_table",  # 3.4
    "test_programs.py::test_translation_with_nn_transformer",  # 3.3
    "test_programs.py::test_soft_actor_critic",  # 3.0
    "test_programs.py::test_reinforce_example",  # 2.9
    "test_compile.py::test_a_compiled_module_is_pytorchs_optimized_module",  # 2.9
    "test_notebook.py::test_notebook_runs",  # 2.7 (a kernel process)
    "test_programs.py::test_maml_sine_regression",  # 2.6
    "test_programs.py::test_unet_segmentation",  # 2.6
    "test_programs.py::test_bert_masked_lm_and_fine_tuning",  # 2.5
    "test_compile_coverage.py::test_sweep_sampled_rows",  # 2.2
    "test_programs.py::test_ctc_sequence_recognition",  # 2.1
    "test_programs.py::test_dqn_tutorial",  # 2.0
    "test_fuzz_torch.py::test_binary_ops_match_pytorch",  # 1.9
    "test_programs12a.py::test_monodepth_stereo",  # 1.9
    "test_benchmarks.py::test_contention_prints_a_row_per_thread_count",  # 1.9 (a process)
    "test_programs12a.py::test_deep_image_prior",  # 1.9
    "test_programs12a.py::test_centernet",  # 1.8
)


def _slow_first(items):
    """``items`` with those of :data:`SLOW_FIRST` at the front, in its order (the same order
    in every worker, as xdist requires)."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    place = {}
    for item in items:
        name = item.nodeid.split("[")[0].rsplit("/", 1)[-1]
        place[item.nodeid] = rank.get(name, len(rank))
    items.sort(key=lambda item: place[item.nodeid])  # (stable: the others keep their order)


def pytest_collection_modifyitems(config, items):
    if hasattr(config, "workerinput"):  # an xdist worker: the slowest tests go first
        _slow_first(items)
    for item in items:  # device-fixture tests on cuda count as gpu tests (``-m gpu``)
        if getattr(item, "callspec", None) and item.callspec.params.get("device") == "cuda":
            item.add_marker(pytest.mark.gpu)
    if "cuda" in DEVICES:
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=DEVICES)
def device(request):
    """Each device: the CPU, the CuPy stand-in (``fakegpu``), and ``cuda`` when present."""
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    minigrad.manual_seed(0)


@pytest.fixture(autouse=True)
def _process_wide_settings_restored():
    """Process-wide settings a program sets as PyTorch programs do (float32 matmul precision,
    distributions' default validation; minigrad's and PyTorch's) are put back after each test:
    a later test in the same worker must not see them (seen with another test order)."""
    from minigrad.backends import cuda
    from minigrad.distributions.distribution import Distribution

    precision, validate = cuda.get_float32_matmul_precision(), Distribution._validate_args
    torch = sys.modules.get("torch")  # PyTorch itself, where a test imported it
    if torch is not None and not hasattr(torch, "get_float32_matmul_precision"):
        torch = None  # (a partly imported or stand-in module)
    theirs = None
    if torch is not None:
        from torch.distributions import Distribution as TorchDistribution

        theirs = torch.get_float32_matmul_precision(), TorchDistribution._validate_args
    yield
    cuda.set_float32_matmul_precision(precision)
    Distribution._validate_args = validate
    if theirs is not None and sys.modules.get("torch") is torch:
        torch.set_float32_matmul_precision(theirs[0])
        TorchDistribution._validate_args = theirs[1]


PROGRAMS = Path(__file__).parent / "programs"


@pytest.fixture
def as_torch(monkeypatch):
    """``import torch`` gives minigrad for the duration of the test (:mod:`minigrad.as_torch`)."""
    monkeypatch.syspath_prepend(str(PROGRAMS))

    def load(name):
        sys.modules.pop(name, None)
        return importlib.import_module(name)

    with minigrad.as_torch.imports():
        yield load


def _counting_replays(monkeypatch, counts) -> list:
    """A one-item list counting the replays for which ``counts(result)`` is true."""
    count = [0]
    replay = program.Program.replay

    def counting(self, inputs, slots):
        out = replay(self, inputs, slots)
        count[0] += counts(out)
        return out

    monkeypatch.setattr(program.Program, "replay", counting)
    return count


@pytest.fixture
def replays(monkeypatch):
    """Counts the replays (so a test can tell a replayed call from a traced or eager one)."""
    return _counting_replays(monkeypatch, lambda out: True)


@pytest.fixture
def hits(monkeypatch):
    """Counts the replays that run to the end (a guard that misses falls back to eager)."""
    return _counting_replays(monkeypatch, lambda out: out is not program.MISS)
