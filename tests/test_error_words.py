"""The errors people search the web for read as PyTorch's: operands that do not broadcast,
indices out of bounds, float targets given to cross_entropy,
Python scalars of tensors with several elements."""

import pytest

import minigrad
import minigrad.nn.functional as F


@pytest.mark.parametrize(
    "call,dim,a,b",
    [
        (lambda: minigrad.randn(2, 3) + minigrad.randn(4, 5), 1, 3, 5),
        (lambda: minigrad.randn(2, 3) * minigrad.randn(4, 1), 0, 2, 4),
        (lambda: minigrad.randn(5, 1, 3) - minigrad.randn(2, 4), 2, 3, 4),
        (lambda: F.mse_loss(minigrad.randn(2, 3), minigrad.randn(3, 2)), 1, 3, 2),
    ],
)
def test_operands_that_do_not_broadcast(call, dim, a, b):
    expected = (
        f"The size of tensor a \\({a}\\) must match the size of tensor b \\({b}\\) at "
        f"non-singleton dimension {dim}"
    )
    with pytest.raises(RuntimeError, match=expected):
        call()


def test_indices_out_of_bounds_name_the_dimension():
    x = minigrad.randn(3, 4)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x[5]
    with pytest.raises(IndexError, match="index 9 is out of bounds for dimension 1 with size 4"):
        x[1, 9]
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x[5] = 1.0


def test_float_class_targets_name_the_dtype():
    with pytest.raises(
        RuntimeError, match="expected target dtype to be Long or Byte, but got Float"
    ):
        F.cross_entropy(minigrad.randn(2, 3), minigrad.tensor([0.0, 1.0]))


@pytest.mark.parametrize(
    "convert,error,words",
    [
        (float, ValueError, "only one element tensors can be converted to Python scalars"),
        (int, ValueError, "only one element tensors can be converted to Python scalars"),
        (complex, ValueError, "only one element tensors can be converted to Python scalars"),
        (bool, RuntimeError, "Boolean value of Tensor with more than one value is ambiguous"),
        (lambda t: t.item(), RuntimeError, "a Tensor with 2 elements cannot be converted"),
    ],
)
def test_python_scalars_of_several_elements(convert, error, words):
    with pytest.raises(error, match=words):
        convert(minigrad.tensor([1.0, 2.0]))


def test_truth_of_an_empty_tensor():
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        bool(minigrad.tensor([]))


@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy", "multi_margin_loss"])
@pytest.mark.parametrize("dtype", ["int64", "uint8", "int32", "int16", "bool", "float32"])
def test_class_index_targets_take_the_dtypes_pytorch_takes(loss, dtype):
    """int64 everywhere, uint8 also for nll_loss and cross_entropy; others refused, not cast."""
    logits = minigrad.randn(3, 4).log_softmax(1)
    target = minigrad.tensor([0, 1, 2]).to(getattr(minigrad, dtype))
    allowed = ("int64", "uint8") if loss != "multi_margin_loss" else ("int64",)
    if dtype in allowed:
        getattr(F, loss)(logits, target)
        return
    words = (
        "expected scalar type Long but found"
        if loss == "multi_margin_loss"
        else "expected target dtype to be Long or Byte, but got"
    )
    with pytest.raises(RuntimeError, match=words):
        getattr(F, loss)(logits, target)


@pytest.mark.parametrize(
    "data,error,words",
    [
        ([[1, 2], [3]], ValueError, r"expected sequence of length 2 at dim 1 \(got 1\)"),
        ([[[1], [2]], [[3]]], ValueError, r"expected sequence of length 2 at dim 1 \(got 1\)"),
        ([[1, 2], [3, 4, 5]], ValueError, r"expected sequence of length 2 at dim 1 \(got 3\)"),
        ([[1, 2], 3], TypeError, "not a sequence"),
        ([1, [2]], TypeError, "expected a number at dim 1, got a list"),
    ],
)
def test_ragged_nested_sequences_name_the_dimension(data, error, words):
    with pytest.raises(error, match=words):
        minigrad.tensor(data)


@pytest.mark.parametrize(
    "call,words",
    [
        (
            lambda: minigrad.zeros(2, 3).expand(4, 2, 2),
            r"The expanded size of the tensor \(2\) must match the existing size \(3\) at "
            r"non-singleton dimension 2.  Target sizes: \[4, 2, 2\].  Tensor sizes: \[2, 3\]",
        ),
        (
            lambda: minigrad.cat([minigrad.zeros(2, 3, 4), minigrad.zeros(2, 5, 5)], 1),
            r"Sizes of tensors must match except in dimension 1. Expected size 4 but got size 5 "
            r"for tensor number 1 in the list.",
        ),
        (
            lambda: minigrad.cat([minigrad.zeros(2, 3), minigrad.zeros(2)]),
            "Tensors must have same number of dimensions: got 2 and 1",
        ),
    ],
)
def test_expand_and_cat_sizes(call, words):
    with pytest.raises(RuntimeError, match=words):
        call()
