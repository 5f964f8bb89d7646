"""``ZeroRedundancyOptimizer``, ``torch.distributed.checkpoint`` (``dcp.save``/``dcp.load``),
the FQN-keyed optimizer state dicts of ``distributed.checkpoint.state_dict`` and
``torch.distributed.pipelining`` (``PipelineStage`` under ``ScheduleGPipe``/``Schedule1F1B``).

One MPI job (tests/dist20_program.py, a PyTorch program, on 2 ranks under ``minigrad.as_torch``)
with its single-process halves run here beside it (a checkpoint saved in this process and
loaded by the job into an FSDP2 model, and the job's checkpoint loaded here into a plain
model); its results are compared with PyTorch's (tests/data/dist20_reference.json, made by
tests/data/make_dist20_reference.py with torchrun on gloo) and with each other. No process
group is started in the pytest process: the rest checks ``dcp`` in one process and the errors.
"""

import importlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import minigrad
import minigrad.distributed.checkpoint as dcp
from minigrad.distributed.optim import ZeroRedundancyOptimizer

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "dist20_reference.json"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """minigrad's results: ``{"ranks": [rank 0's, rank 1's], "before": ..., "after": ...}``."""
    from dist_checks import run_on_two_ranks

    import minigrad.as_torch as as_torch

    with as_torch.imports():
        program = importlib.import_module("dist20_program")
    folder = tmp_path_factory.mktemp("dist20")
    before = program.one_process_before(str(folder))
    ranks = run_on_two_ranks("dist20_program.py", folder / "job.json", str(folder))
    after = program.one_process_after(str(folder))
    return {"ranks": ranks, "before": before, "after": after}


def _same(ours, theirs, path="", tol=1e-6):
    """Equal structure, names and texts; numbers within ``tol``."""
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), path
        for key in theirs:
            _same(ours[key], theirs[key], f"{path}.{key}", tol)
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), path
        if theirs and all(isinstance(v, float) for v in theirs):
            np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol, err_msg=path)
        else:
            for i, (a, b) in enumerate(zip(ours, theirs)):
                _same(a, b, f"{path}[{i}]", tol)
    elif isinstance(theirs, float):
        assert ours == pytest.approx(theirs, rel=tol, abs=tol), path
    else:
        assert ours == theirs, path


def test_the_program_matches_pytorch_on_gloo(results):
    """Every result of PyTorch's run: ZeRO's partitions (also after add_param_group), losses,
    weights and consolidated state dict; the FQN-keyed state dicts of DDP and FSDP2 models
    (full, offloaded to rank 0, sharded); the checkpoint's keys; loads across world sizes;
    HSDP's placements, local shapes, clipped norms and weights; the pipelined MLP's weights,
    microbatch losses and merged outputs under GPipe and 1F1B."""
    reference = json.loads(REFERENCE.read_text())
    for key in ("ranks", "before", "after"):
        _same(results[key], reference[key], key)


def test_loads_are_exact(results):
    """ZeRO equals DDP with Adam; a loaded model and optimizer continue as the original,
    checkpoints move exactly between 1 and 2 ranks, and HSDP on (1, 2) and (2, 1) meshes
    steps as FSDP on the 1-d mesh; a 2-stage pipeline (GPipe, 1F1B) steps as the whole model
    on the whole batch in float64."""
    for r in results["ranks"]:
        assert r["zero_weights"] == r["ddp_adam_weights"]
        assert r["zero_join_weights"] == results["ranks"][0]["zero_join_weights"]
        assert r["zero_local_states"] == [3, 3]  # each rank keeps half of Adam's state
        for key in ("zero_after_load", "zero_after_load_weights", "fsdp_set_full",
                    "fsdp_set_full_weights", "dcp_after_load", "dcp_after_load_weights"):  # fmt: skip
            assert all(v == r[key][0] for v in r[key][1:]), key
        assert r["dcp_loaded_weights"] == r["dcp_saved_weights"]
        assert r["from_one_weights"] == results["before"]["weights"]  # 1 -> 2 ranks
        for case in ("hsdp_1x2", "hsdp_2x1"):  # HSDP: FSDP's steps, whatever the mesh
            assert r[case]["placements"] == r[case]["grad_placements"] == ["R", "S(0)"]
            assert r[case]["losses"] == r["fsdp_losses"] and r[case]["norms"] == r["fsdp_norms"]
            assert r[case]["weights"] == r["fsdp_weights"], case
    rank0, rank1 = results["ranks"]
    assert rank0["pp_traced_names"] == ["0.weight", "0.bias"]
    assert rank1["pp_traced_names"] == ["2.weight", "2.bias", "4.weight", "4.bias"]
    for case in (
        "pp_gpipe",
        "pp_1f1b",
        "pp_traced",
    ):  # pipelined: the whole model's steps on the whole batch
        weights = rank0[case]["weights"] + rank1[case]["weights"]
        np.testing.assert_allclose(weights, rank0["pp_single_weights"], rtol=0, atol=1e-14)
        means = [np.mean(step) for step in rank1[case]["losses"]]  # 4 microbatches' losses
        np.testing.assert_allclose(means, rank0["pp_single_losses"], rtol=1e-14)
        assert rank1[case]["outputs"] == [[8, 1], [8, 1]] and rank0[case]["outputs"] == [None] * 2
    assert results["after"]["weights"] == rank0["dcp_saved_weights"]  # 2 -> 1
    assert results["after"]["exp_avg"] == rank0["dcp_saved_exp_avg"]
    _same(rank0["from_one_step_weights"], results["before"]["next_weights"])


def test_save_and_load_in_one_process(tmp_path):
    """Without a process group: PyTorch's warning, keys and in-place loading (tensors filled,
    objects replaced, a Stateful module loaded through load_state_dict), and its errors."""
    saved = {
        "a": minigrad.arange(6.0).reshape(2, 3),
        "step": 7,
        "nest": {"b": minigrad.ones(2, dtype=minigrad.bfloat16), "l": [1, 2],
                 "mixed": [minigrad.tensor([3, 4]), "x"], "empty": {}},
        "model": minigrad.nn.Linear(2, 3),
    }  # fmt: skip
    with pytest.warns(UserWarning, match="assuming the intent is to save in a single process"):
        meta = dcp.save(saved, checkpoint_id=tmp_path)
    assert sorted(meta.state_dict_metadata) == [
        "a", "model.bias", "model.weight", "nest.b", "nest.l", "nest.mixed.0", "nest.mixed.1",
        "step",
    ]  # fmt: skip
    assert dcp.FileSystemReader(tmp_path).read_metadata().state_dict_metadata["a"].size == (2, 3)
    target = {
        "a": minigrad.zeros(2, 3, dtype=minigrad.float64),
        "step": 0,
        "nest": {"b": minigrad.zeros(2, dtype=minigrad.bfloat16), "l": [], "mixed": [
            minigrad.zeros(2, dtype=minigrad.int64), None]},
        "model": minigrad.nn.Linear(2, 3),
    }  # fmt: skip
    a = target["a"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dcp.load(target, storage_reader=dcp.FileSystemReader(tmp_path))
        assert target["a"] is a and a.dtype == minigrad.float64  # filled in place, cast
        assert a.tolist() == [[0, 1, 2], [3, 4, 5]] and target["step"] == 7
        assert target["nest"]["l"] == [1, 2] and target["nest"]["mixed"][1] == "x"
        assert target["nest"]["mixed"][0].tolist() == [3, 4]
        assert minigrad.equal(target["model"].weight, saved["model"].weight)
        errors = [
            ({"zz": minigrad.zeros(1)}, "Missing key in checkpoint state_dict: zz."),
            ({"a": minigrad.zeros(3, 3)}, r"Size mismatch between saved .*\[2, 3\]\) and current"),
            ({"a": 1}, "Invalid checkpoint metadata for a, expected BytesStorageMetadata"),
        ]
        for state_dict, message in errors:
            with pytest.raises(dcp.CheckpointException, match=message):
                dcp.load(state_dict, checkpoint_id=tmp_path)
        with pytest.raises(dcp.CheckpointException, match="No such file"):
            dcp.load({"a": a}, checkpoint_id=tmp_path / "missing")
    with pytest.raises(RuntimeError, match="`checkpoint_id` must be specified"):
        dcp.save({"a": a}, no_dist=True)
    with pytest.warns(FutureWarning, match="`save_state_dict` is deprecated"):
        dcp.save_state_dict({"a": a}, dcp.FileSystemWriter(tmp_path), no_dist=True)
    assert dcp.state_dict_saver.save is dcp.save and dcp.state_dict_loader.load is dcp.load


def test_refusals():
    from minigrad.distributed import pipelining
    from minigrad.distributed.fsdp import FSDPModule

    class FSDPLinear(FSDPModule, minigrad.nn.Linear):  # (what fully_shard makes; no group)
        pass

    wrapped = minigrad.nn.Linear(2, 2)
    wrapped.__class__ = FSDPLinear

    with pytest.raises(NotImplementedError, match="pipeline: split_policy and pipe_split"):
        pipelining.pipeline(minigrad.nn.Linear(2, 2), (minigrad.ones(2, 2),), split_policy=print)
    with pytest.raises(NotImplementedError, match="pipe_split: split markers inside forward"):
        pipelining.pipe_split()
    with pytest.raises(ValueError, match="Stage index 2 is out of range of 2"):
        pipelining.PipelineStage(minigrad.nn.Linear(2, 2), 2, 2, "cpu")
    with pytest.raises(NotImplementedError, match="wrapped by fully_shard or Distribu"):
        pipelining.PipelineStage(wrapped, 0, 2, "cpu")
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        pipelining.PipelineStage(minigrad.nn.Linear(2, 2), 0, 2, "cpu")
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        ZeroRedundancyOptimizer([minigrad.ones(1)], minigrad.optim.Adam, lr=0.1)
    with pytest.raises(NotImplementedError, match="overlap_with_ddp=True"):
        ZeroRedundancyOptimizer([minigrad.ones(1)], minigrad.optim.Adam, overlap_with_ddp=True)
    with pytest.raises(NotImplementedError, match="single_file_per_rank=False"):
        dcp.FileSystemWriter("x", single_file_per_rank=False)
    with pytest.raises(NotImplementedError, match="planners"):
        dcp.save({}, checkpoint_id="x", planner=object(), no_dist=True)
