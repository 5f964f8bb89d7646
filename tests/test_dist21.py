"""``torch.distributed.pipelining``'s schedules of several stages per rank
(``ScheduleLoopedBFS``, ``ScheduleInterleaved1F1B``), 3-d device meshes (slices, ``_flatten``)
and ``dcp.async_save`` with the default planners.

One MPI job (tests/dist21_program.py, a PyTorch program, on 2 ranks under ``minigrad.as_torch``,
4 stages, 2 per rank); its results are compared with PyTorch's (tests/data/dist21_reference.json,
made by tests/data/make_dist21_reference.py with torchrun on gloo) and with the whole model on
the whole batch. The order of each rank's forwards and backwards is compared with PyTorch's
without a process group.
"""

import importlib
import json
from pathlib import Path

import numpy as np
import pytest
from test_dist20 import _same

import minigrad
from minigrad.distributed import pipelining
from minigrad.distributed.pipelining import schedules

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "dist21_reference.json"


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """Each rank's results of the job."""
    from dist_checks import run_on_two_ranks

    return run_on_two_ranks("dist21_program.py", tmp_path_factory.mktemp("dist21") / "job.json")


def test_the_program_matches_pytorch_on_gloo(ranks):
    """Losses, merged output shapes and every stage's weights after 2 SGD steps under
    ScheduleLoopedBFS (4 microbatches) and ScheduleInterleaved1F1B (2, 4 and 6); the slices
    of 3-d device meshes by names, flattened (``_flatten``) or not, and their coordinates."""
    _same(ranks, json.loads(REFERENCE.read_text())["ranks"], "ranks", tol=1e-12)


def test_the_pipeline_steps_as_the_whole_model(ranks):
    """Each rank's stages (r and r + 2) end with the whole model's weights of those stages, and
    the last rank's per-microbatch losses are the whole model's, in float64."""
    for case, n in (("bfs_4", 4), ("interleaved_2", 2), ("interleaved_4", 4), ("interleaved_6", 6)):
        whole = ranks[0][f"whole_{n}"]
        for rank, result in enumerate(ranks):
            for step in range(2):
                ours = result[case]["weights"][step]
                theirs = whole["weights"][step][rank::2]
                np.testing.assert_allclose(sum(ours, []), sum(theirs, []), rtol=0, atol=1e-14)
        np.testing.assert_allclose(ranks[1][case]["losses"], whole["losses"], rtol=1e-14)
        assert ranks[1][case]["shapes"] == [[2 * n, 1]] * 2
        assert ranks[0][case]["shapes"] == [None] * 2


class _Stage:
    """What a schedule reads of a stage, without a process group."""

    def __init__(self, index, world, stages):
        self.stage_index, self.group_size, self.num_stages = index, world, stages
        self.group_rank, self.is_last = index % world, index == stages - 1


@pytest.mark.parametrize("kind", ["ScheduleInterleaved1F1B", "ScheduleLoopedBFS"])
def test_each_rank_orders_its_work_as_pytorch(kind):
    """Warm-up, 1F1B and cool-down (or breadth-first loops, backwards last microbatch first) in
    PyTorch's order, over world sizes, stages per rank and microbatch counts (rounds of several
    microbatches included)."""
    reference = json.loads(REFERENCE.read_text())["orders"][kind]
    for key, theirs in reference.items():
        world, local, n, rank = map(int, key.split(","))
        stages = [_Stage(rank + k * world, world, world * local) for k in range(local)]
        ours = getattr(schedules, kind)(stages, n)._rank_actions()
        assert [list(a) for a in ours] == theirs, key
    assert len(reference) == 15


def test_refusals():
    with pytest.raises(NotImplementedError, match="ScheduleInterleavedZeroBubble: the zero-bub"):
        pipelining.ScheduleInterleavedZeroBubble([], 4)
    with pytest.raises(ValueError, match="multiple of the number of rounds \\(2\\), but got 5"):
        pipelining.ScheduleInterleaved1F1B([_Stage(0, 2, 4), _Stage(2, 2, 4)], 5)
    with pytest.raises(TypeError, match="ScheduleLoopedBFS: stages must be a non-empty list"):
        pipelining.ScheduleLoopedBFS(_Stage(0, 2, 4), 4)
    assert isinstance(minigrad.distributed.pipelining.ScheduleLoopedBFS([_Stage(0, 1, 1)], 1),
                      schedules.PipelineScheduleMulti)  # fmt: skip


def test_the_program_runs_as_pytorch_imports_it():
    """The program imports under ``minigrad.as_torch`` (its names resolve to minigrad's)."""
    import minigrad.as_torch as as_torch

    with as_torch.imports():
        program = importlib.import_module("dist21_program")
    assert program.net()[0].weight.dtype == minigrad.float64


def test_async_save_and_the_default_planners(tmp_path):
    """``async_save`` gives a done Future whose result is the Metadata, with the files complete;
    the default planners are accepted; ``allow_partial_load`` leaves a key the checkpoint
    lacks; a planner subclass, and a failing save's error (in the Future), as in PyTorch."""
    dcp = minigrad.distributed.checkpoint
    saved = {"w": minigrad.arange(6.0).reshape(2, 3), "step": 3}
    with pytest.warns(UserWarning):
        future = dcp.async_save(saved, checkpoint_id=str(tmp_path / "a"),
                                planner=dcp.DefaultSavePlanner())  # fmt: skip
    assert future.done() and sorted(future.result().state_dict_metadata) == ["step", "w"]
    loaded = {"w": minigrad.zeros(2, 3), "step": 0, "extra": minigrad.ones(1)}
    with pytest.warns(UserWarning):
        dcp.load(loaded, checkpoint_id=str(tmp_path / "a"),
                 planner=dcp.DefaultLoadPlanner(allow_partial_load=True))  # fmt: skip
    assert loaded["w"].tolist() == saved["w"].tolist() and loaded["step"] == 3
    assert loaded["extra"].tolist() == [1.0]
    with pytest.warns(UserWarning), pytest.raises(dcp.CheckpointException, match="Missing key"):
        dcp.load(loaded, checkpoint_id=str(tmp_path / "a"), planner=dcp.DefaultLoadPlanner())

    class Planner(dcp.DefaultSavePlanner):
        def create_local_plan(self):
            return None

    with pytest.raises(NotImplementedError, match="custom planners \\(Planner; subclasses"):
        dcp.save(saved, checkpoint_id=str(tmp_path / "b"), planner=Planner(), no_dist=True)
    future = dcp.async_save(saved, checkpoint_id=str(tmp_path / "c"), planner=Planner())
    with pytest.raises(NotImplementedError, match="custom planners"):
        future.result()
    with pytest.raises(NotImplementedError, match="flatten_state_dict=False"):
        dcp.DefaultLoadPlanner(flatten_state_dict=False)
