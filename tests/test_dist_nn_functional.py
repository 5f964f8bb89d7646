"""``torch.distributed.nn.functional`` (the collectives with a backward) on 2 ranks: a program
run with minigrad's launcher under ``minigrad.as_torch`` gives PyTorch's outputs, gradients and
deprecation warnings (tests/data/dist_nn_reference.json, from ``torchrun --nproc_per_node 2``
on gloo), and the gradients are each collective's adjoint worked out by hand."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "dist_nn_reference.json"


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    from dist_checks import run_on_two_ranks

    out = tmp_path_factory.mktemp("dist_nn") / "job.json"
    return run_on_two_ranks("dist_nn_program.py", out)["ranks"]


def test_outputs_gradients_and_warnings_are_pytorchs(ranks):
    reference = json.loads(REFERENCE.read_text())["ranks"]
    for rank, (ours, theirs) in enumerate(zip(ranks, reference)):
        for case in theirs:
            if case == "reduce" and rank == 1:  # off the destination gloo leaves partial sums
                assert ours[case]["grads"] == theirs[case]["grads"]
                continue
            assert ours[case] == theirs[case], (rank, case)


def test_gradients_are_the_adjoint_collectives(ranks):
    """Rank r weights output i by (r + 1)(i + 1): all_reduce's inputs get the sum of the
    weights (3), broadcast's source gets it and the other rank zeros, all_gather's piece r gets
    (r + 1) times every rank's weight, scatter's source gets each rank's weight for its piece."""
    grads = {case: [r[case]["grads"] for r in ranks] for case in ranks[0] if case != "warnings"}
    assert grads["all_reduce"] == [[3.0] * 3, [3.0] * 3]
    assert grads["broadcast"] == [[0.0] * 4, [3.0] * 4]  # src = 1
    assert grads["all_gather"] == [[3.0] * 6, [6.0] * 6]
    assert grads["scatter"] == [[1.0, 1.0, 2.0, 2.0], [0.0] * 4]  # src = 0
    assert grads["all_to_all_single"] == [[1.0] * 4 + [2.0] * 4] * 2
    assert grads["reduce_scatter"] == [[1.0] * 3 + [2.0] * 3] * 2


def test_the_module_is_pytorchs():
    import minigrad.distributed.nn as dnn
    import minigrad.distributed.nn.functional as functional

    assert dnn.all_reduce is functional.all_reduce
    assert {"all_gather", "all_to_all_single", "reduce_scatter", "scatter"} <= set(dnn.__all__)
