"""Outputs of custom Functions that alias an input (forward returned the input as-is or a view
of it, as a gradient-reversal layer's ``x.view_as(x)``) and the identity boundaries of full
backward hooks (PyTorch's ``BackwardHookFunction``): they share the input's memory and version
counter, and an in-place op on them under grad mode is refused in PyTorch's words (it silently
corrupted the values another node had saved)."""

import pytest

import minigrad
from minigrad import nn


class Identity(minigrad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad


class ReverseGrad(minigrad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


@pytest.mark.parametrize("fn", [Identity, ReverseGrad])
def test_an_in_place_op_on_an_aliasing_output_is_refused(fn):
    x = minigrad.randn(3, requires_grad=True)
    out = fn.apply(x * 1)
    with pytest.raises(RuntimeError, match=f"Output 0 of {fn.__name__} is a view and is being"):
        out.mul_(2)


def test_a_change_under_no_grad_reaches_the_saved_input_and_backward_refuses():
    x = minigrad.ones(3, requires_grad=True)
    s = x.exp()  # exp saves its output
    out = Identity.apply(s)
    assert out.data_ptr() == s.data_ptr()
    with minigrad.no_grad():
        out.mul_(2)
    assert s._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()  # it gave e * 2 per element, silently


def test_a_fresh_output_stays_free_to_change():
    class Double(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = minigrad.ones(3, requires_grad=True)
    out = Double.apply(x)
    out.mul_(3)
    out.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0, 6.0]


def _hooked(module):
    module.register_full_backward_hook(lambda m, gi, go: None)
    return module


def test_full_backward_hooks_pass_the_tensors_themselves():
    """A forward hook sees the boundary's outputs: the same memory as the tensors passed (BackPACK
    finds its quantities by ``data_ptr``)."""
    lin, ce, seen = _hooked(nn.Linear(4, 3)), _hooked(nn.CrossEntropyLoss()), {}
    lin.register_forward_hook(lambda m, i, o: seen.update(lin_out=o.data_ptr()))
    ce.register_forward_hook(lambda m, i, o: seen.update(ce_in=i[0].data_ptr()))
    out = lin(minigrad.randn(2, 4, requires_grad=True))
    ce(out, minigrad.tensor([0, 1]))
    assert seen["lin_out"] == seen["ce_in"] == out.data_ptr()
    assert out.grad_fn.name() == "BackwardHookFunctionBackward"


def test_grad_input_of_a_tensor_argument_without_grad_is_zeros():
    class Scale(nn.Module):
        def forward(self, a, b):
            return a * b

    got = []
    m = Scale()
    m.register_full_backward_hook(lambda mod, gi, go: got.append(gi))
    a = minigrad.randn(2, requires_grad=True)
    m(a, minigrad.tensor([3, 4])).sum().backward()
    grad_a, grad_b = got[0]
    assert grad_a.tolist() == [3.0, 4.0]
    assert grad_b.dtype == minigrad.int64 and grad_b.tolist() == [0, 0]


def test_an_in_place_op_after_a_hooked_module_is_refused_as_in_pytorch():
    seq = nn.Sequential(_hooked(nn.Linear(3, 3)), nn.ReLU(inplace=True))
    with pytest.raises(RuntimeError, match="Output 0 of BackwardHookFunction is a view"):
        seq(minigrad.randn(2, 3, requires_grad=True))


def test_torch_functional_names_the_top_level_functions():
    import minigrad.functional as functional

    assert functional.einsum is minigrad.einsum and functional.split is minigrad.split
    assert set(functional.__all__) >= {"einsum", "stft", "unique", "meshgrid", "cdist"}


def test_einsum_with_a_list_of_operands_is_traced_spread():
    """PyTorch's einsum spreads a list of operands before dispatch: an fx graph records
    ``einsum(eq, a, b)`` (opt_einsum_fx, which e3nn uses, reads the operands from it)."""
    import minigrad.fx as fx

    def f(a, b):
        return minigrad.einsum("ij,jk->ik", [a, b])

    node = next(n for n in fx.symbolic_trace(f).graph.nodes if n.op == "call_function")
    assert len(node.args) == 3 and all(isinstance(a, fx.Node) for a in node.args[1:])
    x = minigrad.ones(2, 2)
    assert minigrad.einsum("ij,jk->ik", [x, x]).tolist() == [[2.0, 2.0], [2.0, 2.0]]
