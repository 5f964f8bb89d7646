"""DTensor (minigrad.distributed.tensor) and DeviceMesh.

Placements are checked here; everything that needs a process group runs in two jobs of
tests/dtensor_checks.py started side by side: a world of one with PyTorch's DTensor (a
one-process gloo group) as the oracle, and 2 ranks over MPI through the launcher (skipped
without mpi4py). A process group is never started in the pytest process (MPI's singleton
start would leave its environment to the jobs other tests launch).
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad.distributed.tensor import Partial, Replicate, Shard
from minigrad.distributed.tensor.placement_types import _StridedShard

ROOT = Path(__file__).resolve().parents[1]
CHECKS = [
    "shards_and_replicas",
    "partial_sums_all_reduce",
    "shard_to_shard",
    "from_local_global_shape",
    "gradients_follow_the_collectives",
    "pointwise_ops_keep_placements",
    "errors",
    "mesh_layout",
    "local_shape_and_offset",
    "all_to_all_and_functional_collectives",
]
# FSDP2's checks (tests/fsdp_checks.py) run in these jobs too: a job of their own would cost
# its start-up (~5 s of CPU); tests/test_fsdp.py has the rest of FSDP's tests.
CHECKS += [
    "parameters_are_row_shards",
    "adamw_steps_match_full_batch",
    "reshard_after_forward_and_backward",
    "gradient_accumulation_without_sync",
    "mixed_precision",
    "full_and_sharded_state_dicts",
    "fsdp1_flat_parameters_match_full_batch",
    "refusals",
]
# Tensor parallelism's (tests/tp_checks.py) too; tests/test_tensor_parallel.py has the rest.
CHECKS += [
    "tp_layer_matches_one_process",
    "tp_layouts_and_prepare_hooks",
    "sequence_parallel_norm_matches_one_process",
    "loss_parallel_matches_cross_entropy",
    "tp_sharding_rules_and_refusals",
]


def _mpi_missing() -> str | None:
    from dist_checks import mpi_missing

    return mpi_missing()


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """name -> the JSON results of each job (both started at once)."""
    if _mpi_missing():
        pytest.skip(_mpi_missing())
    tmp = tmp_path_factory.mktemp("dtensor")
    script = ROOT / "tests" / "dtensor_checks.py"
    commands = {
        "alone": (script, tmp / "alone.json", "--torch"),
        "two": ("-m", "minigrad.distributed.run", "-n", "2", script, tmp / "two.json"),
    }
    started = {
        name: subprocess.Popen(
            [sys.executable, *map(str, args)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for name, args in commands.items()
    }
    results = {}
    for name, proc in started.items():
        try:
            out, err = proc.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        assert proc.returncode == 0, out + err
        results[name] = json.loads((tmp / f"{name}.json").read_text())
    return results


@pytest.mark.parametrize("name", CHECKS)
def test_world_of_one(jobs, name):
    assert jobs["alone"]["world_size"] == 1
    assert jobs["alone"]["ranks"][0][name] == "ok", jobs["alone"]["ranks"][0][name]


def test_world_of_one_matches_pytorch(jobs):
    if importlib.util.find_spec("torch") is None:  # (not imported here: the job imports it)
        pytest.skip("PyTorch is not installed")
    result = jobs["alone"]["ranks"][0].get("torch_oracle", "torch was not importable")
    assert result == "ok", result


@pytest.mark.parametrize("name", CHECKS)
def test_two_ranks(jobs, name):
    assert jobs["two"]["world_size"] == 2
    for rank, results in enumerate(jobs["two"]["ranks"]):
        assert results[name] == "ok", f"rank {rank}:\n{results[name]}"


def test_placements_compare_hash_and_print_as_pytorch():
    assert Shard(0) == Shard(0) != Shard(1) and hash(Shard(1)) == hash(Shard(1))
    assert Replicate() == Replicate() and Partial() == Partial("sum") != Partial("max")
    assert {Shard(0), Shard(0), Replicate()} == {Shard(0), Replicate()}
    assert [repr(p) for p in (Shard(1), Replicate(), Partial())] == [
        "Shard(dim=1)", "Replicate()", "Partial(sum)",
    ]  # fmt: skip
    assert [str(p) for p in (Shard(1), Replicate(), Partial("max"))] == ["S(1)", "R", "P(max)"]
    assert Shard(0).is_shard() and Shard(0).is_shard(0) and not Shard(0).is_shard(1)
    assert Replicate().is_replicate() and Partial().is_partial() and not Shard(0).is_partial()
    assert _StridedShard(0, split_factor=2) != Shard(0)
    with pytest.raises(NotImplementedError, match="reduce_op"):
        Partial("product")


def test_importing_dtensor_leaves_tensor_methods_undispatched():
    """Importing the module (as transformers does) must not slow every Tensor method: the
    DTensor class turns dispatch on when the first DTensor is made (never in this process)."""
    import minigrad._torch_function as tf
    from minigrad.distributed.tensor import DTensor

    assert id(DTensor) not in tf._overriding_subclasses
    assert tf._learn(DTensor) == tf._PLAIN
