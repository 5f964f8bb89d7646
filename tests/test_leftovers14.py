"""Semantic leftovers matched to PyTorch 2.13: ``load(weights_only=True)``'s default allowlist."""

import collections
import io
import pickle
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import _public_name, nn

torch = pytest.importorskip("torch")


def _saved(save, obj) -> io.BytesIO:
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    return buffer


def _refusal(load, buffer) -> str:
    with pytest.raises(pickle.UnpicklingError) as info:
        load(buffer)
    buffer.seek(0)
    return str(info.value)


def _key_sentence(message: str) -> str:
    """PyTorch's searchable sentence: from "Unsupported global" to "class/function."."""
    start = message.index("Unsupported global")
    return message[start : message.index("class/function.", start) + len("class/function.")]


def test_a_whole_module_is_refused_in_pytorchs_words():
    theirs = _refusal(torch.load, _saved(torch.save, torch.nn.Linear(2, 3)))
    mine = _saved(minigrad.save, nn.Linear(2, 3))
    assert _key_sentence(_refusal(minigrad.load, mine)) == _key_sentence(theirs).replace(
        "torch.", "minigrad."
    )
    previous = _public_name.show_as("torch")  # as minigrad.as_torch runs a program
    try:
        assert _key_sentence(_refusal(minigrad.load, mine)) == _key_sentence(theirs)
        assert minigrad.serialization.get_unsafe_globals_in_checkpoint(mine) == [
            "torch.nn.modules.linear.Linear"
        ]
    finally:
        _public_name.show_as(previous)
    assert type(minigrad.load(mine, weights_only=False)) is nn.Linear
    mine.seek(0)
    with minigrad.serialization.safe_globals([nn.Linear]):
        assert type(minigrad.load(mine)) is nn.Linear


def _trained():
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    opt = minigrad.optim.Adam(model.parameters(), lr=0.1)
    sched = minigrad.optim.lr_scheduler.MultiStepLR(opt, [1, 2])
    model(minigrad.randn(4, 2)).sum().backward()
    opt.step()
    sched.step()
    return model, opt, sched


# What torch.serialization.get_unsafe_globals_in_checkpoint lists for torch.save((model, Adam))
# of that model in PyTorch 2.13 (a torch.optim optimizer is not built here: its first use
# imports PyTorch's compiler, seconds of test time); its state_dicts list nothing
PYTORCHS_UNSAFE = [
    "torch.nn.modules.container.Sequential", "torch.nn.modules.linear.Linear",
    "torch.nn.modules.batchnorm.BatchNorm1d", "torch.optim.adam.Adam", "collections.defaultdict",
    "builtins.dict",
]  # fmt: skip


def test_state_dicts_load_by_default_and_whole_objects_need_allowing():
    model, opt, sched = _trained()
    obj = {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}
    buffer = _saved(minigrad.save, obj)
    assert minigrad.serialization.get_unsafe_globals_in_checkpoint(buffer) == []
    buffer.seek(0)
    out = minigrad.load(buffer)
    model.load_state_dict(out["model"])
    opt.load_state_dict(out["opt"])
    assert out["opt"]["state"][0]["exp_avg"].shape == (3, 2)
    buffer = _saved(minigrad.save, (model, opt))
    mine = minigrad.serialization.get_unsafe_globals_in_checkpoint(buffer)
    assert sorted(mine) == sorted(n.replace("torch.", "minigrad.") for n in PYTORCHS_UNSAFE)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL minigrad.nn.modules.container"):
        minigrad.load(buffer)


def test_what_is_refused_by_default_is_pytorchs():
    cases = {
        "module": lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3)),
        "defaultdict": lambda lib: {"d": collections.defaultdict(list, {"a": [1]})},
        "frozenset": lambda lib: [frozenset({1})],
        "allowed": lambda lib: {
            "odict": collections.OrderedDict(a=lib.ones(1)),
            "set": {1, 2},
            "parameter": lib.nn.Parameter(lib.ones(2)),
            "dtype": lib.float64,
            "device": lib.device("cpu"),
            "layout": lib.strided,
            "plain": [1, 2.5, None, True, "s", (1,), {"k": float("inf")}],
        },
    }
    for case, make in cases.items():
        theirs = torch.serialization.get_unsafe_globals_in_checkpoint(
            _saved(torch.save, make(torch))
        )
        buffer = _saved(minigrad.save, make(minigrad))
        mine = minigrad.serialization.get_unsafe_globals_in_checkpoint(buffer)
        assert sorted(mine) == sorted(n.replace("torch.", "minigrad.") for n in theirs), case
        buffer.seek(0)
        if mine:
            with pytest.raises(pickle.UnpicklingError, match="was not an allowed global"):
                minigrad.load(buffer)
        else:
            out = minigrad.load(buffer)
            assert case != "allowed" or (
                type(out["parameter"]) is nn.Parameter and out["layout"] == minigrad.strided
            )


def test_numpy_arrays_need_numpys_globals_as_in_pytorch():
    array = np.arange(3.0)
    theirs = torch.serialization.get_unsafe_globals_in_checkpoint(_saved(torch.save, [array]))
    buffer = _saved(minigrad.save, [array])
    mine = minigrad.serialization.get_unsafe_globals_in_checkpoint(buffer)
    # PyTorch's static scan misses the dtype's class, which its loading asks for next
    assert set(theirs) < set(mine) and "numpy.dtypes.Float64DType" in mine
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL numpy._core.multiarray._reconstruct"):
        minigrad.load(buffer)
    needed = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, np.dtypes.Float64DType]
    with minigrad.serialization.safe_globals(needed):
        assert minigrad.serialization.get_unsafe_globals_in_checkpoint(buffer) == []
        buffer.seek(0)
        np.testing.assert_array_equal(minigrad.load(buffer)[0], array)
    with torch.serialization.safe_globals(needed):
        np.testing.assert_array_equal(torch.load(_saved(torch.save, [array]))[0], array)


def test_unsafe_globals_of_a_pytorch_file():
    for obj in (torch.nn.Linear(2, 2), {"w": torch.ones(2), "c": collections.Counter("ab")}):
        buffer = _saved(torch.save, obj)
        theirs = torch.serialization.get_unsafe_globals_in_checkpoint(buffer)
        buffer.seek(0)
        assert minigrad.serialization.get_unsafe_globals_in_checkpoint(buffer) == theirs
    minigrad.serialization.clear_safe_globals()
    assert minigrad.serialization.get_safe_globals() == []


# -- double backward of multi_margin_loss, multilabel_margin_loss, pdist, cdist ---------------
def _second_order_cases(lib):
    F = lib.nn.functional
    t, mt = lib.tensor([1, 0, 3]), lib.tensor([[1, 0, -1, 0], [2, -1, 0, 0], [3, 1, -1, 0]])
    return {
        "multi_margin": lambda x, y: F.multi_margin_loss(x, t, p=2, margin=0.7),
        "multilabel_margin": lambda x, y: F.multilabel_margin_loss(x, mt, reduction="sum"),
        "pdist": lambda x, y: F.pdist(x, p=1.5).sum(),
        "cdist": lambda x, y: (lib.cdist(x, y) * lib.arange(6.0).reshape(3, 2)).sum(),
        "cdist_p1": lambda x, y: lib.cdist(x, y, p=1.0).sum(),
        "cdist_mm": lambda x, y: lib.cdist(x, y, compute_mode="use_mm_for_euclid_dist").sum(),
    }


def _first_order(lib, case):
    gen = np.random.default_rng(3)
    x = lib.tensor(gen.standard_normal((3, 4)), requires_grad=True)
    y = lib.tensor(gen.standard_normal((2, 4)), requires_grad=True)
    out = _second_order_cases(lib)[case](x, y)
    grads = lib.autograd.grad(out, (x, y), create_graph=True, allow_unused=True)
    return x, y, [g for g in grads if g is not None]


@pytest.mark.parametrize("case", list(_second_order_cases(torch)))
def test_double_backward_raises_where_pytorchs_does(case):
    x, y, theirs = _first_order(torch, case)
    mx, my, mine = _first_order(minigrad, case)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10)
        assert a.grad_fn.name() == b.grad_fn.name() or case == "cdist_mm"
    try:
        expected = torch.autograd.grad(sum((g * g).sum() for g in theirs), (x, y))
    except (RuntimeError, NotImplementedError) as e:
        with pytest.raises(type(e), match=f"^{e}$"):
            minigrad.autograd.grad(sum((g * g).sum() for g in mine), (mx, my))
        return
    assert case == "cdist_mm"  # PyTorch's composite of matrix products
    found = minigrad.autograd.grad(sum((g * g).sum() for g in mine), (mx, my))
    for a, b in zip(found, expected):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9)


def test_first_order_gradients_stay_checked():
    gen = np.random.default_rng(0)
    x = minigrad.tensor(gen.standard_normal((3, 4)), requires_grad=True)
    y = minigrad.tensor(gen.standard_normal((5, 4)), requires_grad=True)
    F = minigrad.nn.functional
    assert minigrad.autograd.gradcheck(lambda a: F.pdist(a), (x,))
    assert minigrad.autograd.gradcheck(lambda a, b: minigrad.cdist(a, b, p=3.0), (x, y))
    assert minigrad.autograd.gradcheck(
        lambda a: F.multi_margin_loss(a, minigrad.tensor([0, 2, 3])), (x,)
    )


# -- kl_div with zero (and negative) targets ------------------------------------------------------
@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean", "mean"])
def test_kl_div_at_zero_targets_is_pytorchs(reduction):
    values = {
        "input": [[-1.0, -2.0, -0.5], [-0.3, -1.2, -2.2]],
        "target": [[0.0, 0.7, 0.3], [0.5, 0.0, -0.1]],  # zeros, and a negative target: NaN
    }
    found = []
    for lib in (minigrad, torch):
        x, t = (lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values.values())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.nn.functional.kl_div(x, t, reduction=reduction)
            gx, gt = lib.autograd.grad(out.sum(), (x, t), create_graph=True)
        with warnings.catch_warnings():  # (minigrad's 0/0 warns from NumPy: not kl_div's own)
            warnings.simplefilter("ignore")
            second = lib.autograd.grad((gt * gt).sum(), (x, t))
        # the same warnings: 'mean''s only (no NumPy warning of log(0) or 0/0)
        found.append([a.detach().numpy() for a in (out, gx, gt, *second)])
        found[-1].append(sorted(str(w.message) for w in caught))
    assert found[0].pop() == found[1].pop()
    for a, b in zip(*found):
        np.testing.assert_allclose(a, b, rtol=1e-12)
        numbers = ~np.isnan(b)  # -0.0 where PyTorch's (a NaN's sign means nothing)
        np.testing.assert_array_equal(np.signbit(a[numbers]), np.signbit(b[numbers]))


# -- sparse reprs under as_torch; searchsorted's non-contiguous warnings --------------------------
def test_sparse_reprs_name_the_layout_as_the_program_imported_it():
    indices, values = [[0, 1], [1, 0]], [1.0, 2.0]
    theirs = torch.sparse_coo_tensor(indices, values, (2, 2))
    ours = minigrad.sparse_coo_tensor(indices, values, (2, 2))
    previous = _public_name.show_as("torch")
    try:
        for convert in (lambda s: s, lambda s: s.to_sparse_csr(), lambda s: s.to_sparse_csc()):
            assert repr(convert(ours)) == repr(convert(theirs))
    finally:
        _public_name.show_as(previous)
    assert repr(ours).endswith("layout=minigrad.sparse_coo)")


def test_searchsorted_warns_once_of_non_contiguous_operands_as_pytorch():

    def run(lib):
        boundaries = lib.arange(10.0)[::2]
        values = lib.tensor([[1.0, 3.0], [2.0, 5.0]]).t()
        sorter = lib.stack([lib.arange(5), lib.arange(5)], 1)[:, 0]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = [lib.bucketize(lib.tensor([1.0, 3.0]), boundaries)]
            found.append(lib.searchsorted(boundaries, lib.tensor([1.0, 3.0])))
            found.append(lib.searchsorted(boundaries, values, sorter=sorter))
            found.append(lib.searchsorted(boundaries, values, right=True))
        messages = [str(w.message).split(" (Triggered internally")[0] for w in caught]
        return [f.tolist() for f in found], messages, {w.filename for w in caught}

    saved = set(minigrad._warnings._said_once)
    minigrad._warnings._said_once.clear()
    try:
        theirs, theirs_said, _ = run(torch)
        ours, said, where = run(minigrad)
        assert ours == theirs and where == {__file__}
        # (PyTorch warns once per process: an earlier test in this process may have used it up)
        assert said == theirs_said or not theirs_said
        kinds = ["boundary", "input value", "sorter"]
        assert said == [
            f"torch.searchsorted(): {k} tensor is non-contiguous, this will lower the performance "
            f"due to extra data copy when converting non-contiguous tensor to contiguous, please "
            f"use contiguous {k} tensor if possible. This message will only appear once per "
            f"program."
            for k in kinds
        ]
        assert run(minigrad)[1] == []  # once per program
    finally:
        minigrad._warnings._said_once.clear()
        minigrad._warnings._said_once.update(saved)


# -- retained gradients of non-leaf channels-last tensors -----------------------------------------
def _retained_grads(lib, create_graph=False):
    lib.manual_seed(0)
    leaf = lib.randn(2, 3, 5, 5, requires_grad=True)
    conv = lib.nn.Conv2d(3, 4, 3)
    x = leaf.to(memory_format=lib.channels_last)
    x.retain_grad()
    y = conv(x)
    y.retain_grad()
    (y * y).sum().backward(create_graph=create_graph)
    cl = lib.channels_last
    found = [(t.stride(), t.is_contiguous(), t.is_contiguous(memory_format=cl)) for t in (x, y)]
    found += [(t.grad.stride(), t.grad.is_contiguous()) for t in (x, y, leaf)]
    if create_graph:
        found.append([t.grad.grad_fn.name() for t in (x, y)])
    return found


@pytest.mark.parametrize("create_graph", [False, True])
def test_retained_gradients_are_row_major_as_pytorchs(create_graph):
    # PyTorch keeps a non-leaf's gradient as grad.clone(contiguous_format); leaves keep theirs
    # in the leaf's layout
    theirs = _retained_grads(torch, create_graph)
    assert _retained_grads(minigrad, create_graph) == theirs
    x = minigrad.randn(2, 3, 4, 4).to(memory_format=minigrad.channels_last).requires_grad_()
    (x * 2).sum().backward()
    assert x.grad.is_contiguous(memory_format=minigrad.channels_last)
