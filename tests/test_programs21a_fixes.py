"""What the twenty-first round of programs (PyTorch's tutorials and recipes) found in minigrad,
each checked against PyTorch where it is installed."""

import pytest

import minigrad


def _both(run):
    torch = pytest.importorskip("torch")
    return run(minigrad), run(torch)


class _Tagged(minigrad.Tensor):
    """A __torch_function__ subclass (the default handler keeps the type through ops)."""


def _meta_moves(lib):
    with lib.device("meta"):
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
    weight = model[0].weight
    held = lib.optim.SGD(model.parameters(), lr=0.1).param_groups[0]["params"][0]
    model.to_empty(device="cpu")
    seen = [model[0].weight is weight, held.is_meta, model[0].weight.device.type]
    seen += [isinstance(model[0].weight, lib.nn.Parameter), model[0].weight.requires_grad]
    weight = model[0].weight
    model.to_empty(device="cpu")  # cpu to cpu: the same objects, new storage
    model.double()
    seen += [model[0].weight is weight, model[0].weight.dtype == lib.float64]
    model.to("meta")
    seen += [model[0].weight is weight, model[0].weight.is_meta, weight.is_meta]
    return seen


def test_moving_parameters_to_or_from_meta_makes_new_parameters():
    """PyTorch's ``_apply`` sets ``param.data`` in place only where the new tensor has a
    compatible implementation; meta and real tensors do not, so ``to_empty`` from the meta
    device and ``to("meta")`` give the module new Parameter objects (an optimizer made before
    keeps the meta ones). minigrad kept the old objects."""
    ours, theirs = _both(_meta_moves)
    assert ours == theirs == [False, True, "cpu", True, True, True, True, False, True, False]


def test_to_empty_from_meta_keeps_a_parameter_subclass():
    """``to_empty`` calls the public ``empty_like``, whose ``__torch_function__`` dispatch
    keeps a subclass parameter's type in the new Parameter, as PyTorch's does."""
    torch = pytest.importorskip("torch")

    class TorchTagged(torch.Tensor):
        pass

    def run(lib, cls):
        with lib.device("meta"):
            layer = lib.nn.Linear(2, 2)
            layer.weight = lib.nn.Parameter(layer.weight.as_subclass(cls))
        layer.to_empty(device="cpu")
        return type(layer.weight) is cls, isinstance(layer.weight, lib.nn.Parameter)

    assert run(minigrad, _Tagged) == run(torch, TorchTagged) == (True, True)
