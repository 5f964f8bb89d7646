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
    held = list(model.parameters())[0]  # as an optimizer holds it (PyTorch's first costs 4 s)
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


def _hook_calls(lib):
    calls = []

    def pack(t):
        calls.append(("pack", t.tolist()))
        return t

    def unpack(t):
        calls.append(("unpack", t.tolist()))
        return t

    a = lib.ones(2, requires_grad=True)
    b = lib.ones(2, requires_grad=True) * 2
    x = lib.full((2,), 3.0, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = a * b
        z = x.pow(2)  # tensor ** number: PyTorch's PowBackward0 keeps self alone
    y.sum().backward()
    calls.append("then pow")
    z.sum().backward()
    return calls


def test_saved_tensor_hooks_see_pytorchs_pack_and_unpack_order():
    """The "Hooks for autograd saved tensors" tutorial prints its hooks' calls: mul packs and
    unpacks ``other`` before ``self`` (minigrad unpacked ``self`` first), and ``x.pow(2)``
    saves ``x`` alone (minigrad saved its result too: two pack calls where PyTorch makes one)."""
    ours, theirs = _both(_hook_calls)
    assert ours == theirs
    packs = [("pack", [2.0, 2.0]), ("pack", [1.0, 1.0]), ("pack", [3.0, 3.0])]
    unpacks = [("unpack", [2.0, 2.0]), ("unpack", [1.0, 1.0]), "then pow", ("unpack", [3.0, 3.0])]
    assert theirs == packs + unpacks


def _saved_attributes(lib):
    calls = []
    a = lib.ones(2, requires_grad=True)
    b = lib.ones(2, requires_grad=True) * 2
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: calls.append(1) or t):
        y = a * b
    y.grad_fn._saved_self  # noqa: B018 - unpacks self alone
    x = lib.ones(2, requires_grad=True)
    z = x.pow(2)
    names = sorted(n for n in dir(z.grad_fn) if n.startswith("_saved_") and "sym" not in n)
    z.sum().backward()
    try:
        z.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
    except RuntimeError as e:
        freed = str(e)
    return len(calls), names, freed


def test_saved_attribute_unpacks_one_tensor_and_freed_hooks_error():
    """``grad_fn._saved_self`` runs the unpack hook of ``self`` only (minigrad unpacked every
    saved tensor of the node); registering hooks on a freed saved tensor gets PyTorch's
    message (minigrad gave the "backward through the graph a second time" one)."""
    ours, theirs = _both(_saved_attributes)
    assert ours == theirs
    assert theirs[:2] == (1, ["_saved_exponent", "_saved_self"])
    assert theirs[2].startswith("Calling register_hooks on a saved tensor after it has been freed")


def _float32_gradchecks(lib):
    import warnings

    x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loose = lib.autograd.gradcheck(lib.sin, (x,), eps=1e-3, atol=1e-2, rtol=1e-2)
        strict = lib.autograd.gradcheck(lib.sin, (x,), raise_exception=False)
    try:
        lib.autograd.gradcheck(lib.sin, (x.detach(),))
    except ValueError as e:
        none_error = str(e)
    return loose, strict, [str(w.message) for w in caught], none_error


def test_gradcheck_of_float32_inputs_warns_and_checks():
    """The gradcheck note and many tutorials check float32 functions with loosened ``eps`` and
    tolerances: PyTorch warns ("Input #0 requires gradient and is not a double precision ...")
    and differences in float32; minigrad refused float32 inputs with a ValueError."""
    ours, theirs = _both(_float32_gradchecks)
    assert ours == theirs
    assert theirs[:2] == (True, False) and len(theirs[2]) == 2


def test_importing_a_shadowed_submodule_as_torch_keeps_the_function():
    """``from torch.autograd.gradcheck import GradcheckError`` under ``minigrad.as_torch``
    loaded the module under its ``torch`` name, and the import system then bound
    ``torch.autograd.gradcheck`` to the module: the next ``gradcheck(...)`` call failed with
    "'module' object is not callable". PyTorch's import finds the module loaded already."""
    import importlib
    import sys

    import minigrad.as_torch

    with minigrad.as_torch.imports():
        torch = importlib.import_module("torch")
        error = importlib.import_module("torch.autograd.gradcheck").GradcheckError
        importlib.import_module("torch.nn.utils.spectral_norm")
        kinds = [callable(torch.autograd.gradcheck), callable(torch.nn.utils.spectral_norm)]
        assert "torch.autograd.gradcheck" in sys.modules
    assert kinds == [True, True]
    assert error is sys.modules["minigrad.autograd.gradcheck"].GradcheckError
    assert callable(minigrad.autograd.gradcheck)


def _unpacked_leaf(lib):
    lib.manual_seed(0)
    x = lib.randn(3, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t * 1, lambda t: t):
        y = x.exp() * x
    saved = y.grad_fn._saved_other
    flags = [saved.is_leaf, saved.requires_grad, saved.grad_fn is None, saved is x]
    (saved * 3).sum().backward()  # flows into x's accumulator, not into saved
    return (
        flags,
        repr(saved).startswith("tensor(") and "requires_grad=True" in repr(saved),
        (
            x.grad.tolist(),
            saved.grad,
        ),
    )


def test_a_saved_leaf_unpacked_by_hooks_is_a_leaf_sharing_its_accumulator():
    """The saved-tensor hooks tutorial prints ``y.grad_fn._saved_self`` of a leaf: PyTorch's is
    a leaf (``requires_grad=True``, no grad_fn) whose gradients reach the saved leaf's
    ``.grad``; minigrad's showed ``grad_fn=<AccumulateGrad>`` and was no leaf."""
    ours, theirs = _both(_unpacked_leaf)
    assert ours == theirs
    assert theirs[0] == [True, True, True, False] and theirs[2] == ([3.0, 3.0, 3.0], None)
