"""Regression tests for what the twelfth round's sequence, language, audio and tabular programs
(tests/test_programs12b.py) found wrong in minigrad, one focused test per fix, each compared
with PyTorch."""

import pytest

import minigrad

torch = pytest.importorskip("torch")


def _where_then_in_place(lib):
    lib.manual_seed(0)
    x = lib.randn(2, 5, dtype=lib.float64, requires_grad=True)
    d = x * 2
    d[:, :2] = d[:, :2].masked_fill(lib.tensor([True, False]), float("-inf"))  # a view, refilled
    y = lib.where(d > 0, d, lib.zeros((), dtype=lib.float64))
    d.mul_(3)  # where's inputs change after it ran: its backward needs only the condition
    (y.exp() * lib.arange(10.0, dtype=lib.float64).view(2, 5)).sum().backward()
    return x.grad.flatten().tolist()


def test_where_and_masked_fill_keep_only_the_condition_for_backward():
    # Longformer's banded scores mask a slice and write it back into the same tensor; minigrad
    # kept where's inputs too and refused the backward (saved tensor modified in place)
    assert _where_then_in_place(minigrad) == pytest.approx(_where_then_in_place(torch), rel=1e-12)


def _pretrained_bags(lib):
    table = lib.arange(12.0).view(4, 3)
    bag = lib.nn.EmbeddingBag.from_pretrained(table, mode="max", padding_idx=1)
    out = bag(lib.tensor([0, 3, 1, 2, 2]), lib.tensor([0, 2, 2, 3]))  # an empty bag
    trainable = lib.nn.EmbeddingBag.from_pretrained(table, freeze=False, include_last_offset=True)
    means = trainable(lib.tensor([0, 1, 2, 3]), lib.tensor([0, 1, 4]))
    means.sum().backward()
    return [out.tolist(), bag.weight.requires_grad, means.tolist(), trainable.weight.grad.tolist()]


def test_embedding_bag_from_pretrained_is_pytorchs():
    # wide & deep code loads pretrained tables into bags; minigrad had no from_pretrained
    assert _pretrained_bags(minigrad) == _pretrained_bags(torch)
    for lib in (minigrad, torch):
        for cls in (lib.nn.EmbeddingBag, lib.nn.Embedding):
            with pytest.raises(AssertionError, match="expected to be 2-dimensional"):
                cls.from_pretrained(lib.zeros(4))


def _bce_logits_mixed(lib, x_dtype, t_dtype, **kwargs):
    lib.manual_seed(0)
    x = lib.randn(6, dtype=x_dtype, requires_grad=True)
    t = (lib.rand(6) > 0.5).to(t_dtype)
    loss = lib.nn.functional.binary_cross_entropy_with_logits(x, t, **kwargs)
    loss.sum().backward()
    return str(loss.dtype).rsplit(".")[-1], loss.tolist(), str(x.grad.dtype), x.grad.tolist()


@pytest.mark.parametrize(
    "x_dtype, t_dtype", [("float64", "float32"), ("float32", "float64"), ("float32", "float16")]
)
@pytest.mark.parametrize(
    "kwargs", [{}, {"reduction": "none"}, {"pos_weight": [2.0]}, {"weight": [0.5] * 6}]
)
def test_bce_with_logits_has_the_targets_dtype(x_dtype, t_dtype, kwargs):
    # PyTorch computes the loss in place in (1 - target): float64 logits with float32 targets
    # (a program's .float() labels under set_default_dtype(float64)) give a float32 loss
    results = []
    for lib in (minigrad, torch):
        args = {
            k: lib.tensor(v, dtype=getattr(lib, x_dtype))
            for k, v in kwargs.items()
            if k != "reduction"
        }
        args.update({k: v for k, v in kwargs.items() if k == "reduction"})
        results.append(_bce_logits_mixed(lib, getattr(lib, x_dtype), getattr(lib, t_dtype), **args))
    (dt_m, loss_m, gdt_m, g_m), (dt_t, loss_t, gdt_t, g_t) = results
    assert dt_m == dt_t == t_dtype and gdt_m.rsplit(".")[-1] == gdt_t.rsplit(".")[-1] == x_dtype
    tol = 1e-3 if "float16" in (x_dtype, t_dtype) else 1e-6
    assert loss_m == pytest.approx(loss_t, rel=tol) and g_m == pytest.approx(g_t, rel=tol)


def test_bce_with_logits_refuses_an_integer_target():
    for lib in (minigrad, torch):
        x = lib.zeros(3, requires_grad=True)
        with pytest.raises(
            RuntimeError, match="result type Float can't be cast to the desired output type Long"
        ):
            lib.nn.functional.binary_cross_entropy_with_logits(x, lib.ones(3, dtype=lib.int64))
