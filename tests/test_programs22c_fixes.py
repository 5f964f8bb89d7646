"""Regression tests for what the twenty-second round's self-supervised, interpretability and
continual-learning programs found (round c): module full backward hooks as PyTorch sets them
up (the output wrapped after the forward hooks ran, the hooks of the call kept even if removed
before backward, grad_output packed to the output's length, hook errors in PyTorch's words),
tensor hooks that change a gradient's size or type, autograd.grad's unused-input error, and
MultiheadAttention projecting with out_proj's weights rather than calling it."""

import functools

import pytest

import minigrad as torch
from minigrad import nn

VIEW_ERROR = "is a view and is being modified inplace"


def test_full_backward_hook_sees_grad_of_forward_hooks_result():
    """PyTorch wraps the output after the forward hooks ran: grad_output is the gradient of
    the hook's replacement (it was of the module's own output, twice as large here)."""
    m = nn.Tanh()
    seen = []
    m.register_forward_hook(lambda mod, args, out: out * 2)
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((go[0].tolist(), gi[0].tolist())))
    x = torch.zeros(2, requires_grad=True)
    y = m(x)
    y.sum().backward()
    assert type(y.grad_fn).__name__ == y.grad_fn.name() == "BackwardHookFunctionBackward"
    assert seen == [([1.0, 1.0], [2.0, 2.0])] and x.grad.tolist() == [2.0, 2.0]


def test_forward_hook_writes_in_place_before_the_backward_hook_boundary():
    torch.manual_seed(0)
    m = nn.Linear(2, 2)
    m.register_full_backward_hook(lambda mod, gi, go: None)
    m.register_forward_hook(lambda mod, args, out: out.__setitem__((slice(None), 0), 0.0))
    x = torch.randn(1, 2, requires_grad=True)
    m(x).sum().backward()
    assert torch.allclose(x.grad, m.weight[1:].detach())  # only output 1 reaches x


def test_inplace_relu_with_full_backward_hook_raises_as_pytorch():
    """The guided-backprop gotcha: ``nn.ReLU(inplace=True)`` changes the hook's view."""
    relu = nn.ReLU(inplace=True)
    relu.register_full_backward_hook(lambda mod, gi, go: (gi[0].clamp(min=0),))
    x = torch.randn(3, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match=f"Output 0 of BackwardHookFunction {VIEW_ERROR}"):
        relu(x)


def test_backward_hook_errors_in_pytorchs_words():
    lin = nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    x = torch.randn(1, 3, requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match="Backward hook returned an invalid number of grad_input, got 2, but expected 1",
    ):
        lin(x).sum().backward()
    pre = nn.Linear(3, 2)
    pre.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
    with pytest.raises(
        RuntimeError,
        match="Backward pre hook returned an invalid number of grad_output, got 2, but expected 1",
    ):
        pre(x).sum().backward()
    no_input = nn.Linear(3, 2)
    no_input.register_full_backward_hook(lambda mod, gi, go: (torch.ones(1, 3),))
    with pytest.warns(UserWarning, match="Full backward hook is firing"):
        with pytest.raises(RuntimeError, match="where no input requires gradient should always"):
            no_input(torch.randn(1, 3)).sum().backward()


def test_backward_hooks_removed_after_forward_still_run_for_that_call():
    """PyTorch's BackwardHook keeps the hooks of the call (TransformerLens-style
    ``run_with_hooks`` removes them before ``backward``); a later call runs none."""
    point = nn.Identity()
    seen = []
    handles = [
        point.register_full_backward_pre_hook(lambda mod, go: seen.append("pre")),
        point.register_full_backward_hook(lambda mod, gi, go: seen.append("full")),
    ]
    w = torch.randn(2, requires_grad=True)
    y = point(w * 2)
    for handle in handles:
        handle.remove()
    y.sum().backward()
    assert seen == ["pre", "full"]
    point(w * 2).sum().backward()
    assert seen == ["pre", "full"] and w.grad.tolist() == [4.0, 4.0]


def _longer(grad):
    return torch.ones(5)


def test_tensor_hook_changing_size_or_dtype_raises_as_pytorch():
    """A ``register_hook`` hook may not change the gradient's size or type (minigrad raised a
    node's shape error for the size and cast a float64 result back silently)."""
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    y.register_hook(_longer)
    with pytest.raises(RuntimeError, match="hook '_longer' has changed the size of value"):
        y.sum().backward()
    y = x * 2
    y.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError, match=r"hook '<lambda>' has changed the type of value \(was"):
        y.sum().backward()
    x.register_hook(functools.partial(lambda g, n: torch.ones(n), n=4))
    with pytest.raises(RuntimeError, match="hook '<unknown>' has changed the size of value"):
        (x * 2).sum().backward()


def test_no_input_full_backward_hook_warning_in_pytorchs_words():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda mod, gi, go: None)
    with pytest.warns(UserWarning, match="no inputs require gradients. See https://docs.pytorch"):
        lin(torch.randn(1, 2)).sum().backward()


def test_grad_output_has_an_entry_per_output_element():
    """PyTorch packs grad_output to the length of the output tuple, None where an element is
    not a tensor (minigrad counted the tensors only)."""
    seen = []
    lstm = nn.LSTM(3, 4, batch_first=True)
    lstm.register_full_backward_hook(lambda mod, gi, go: seen.append([g is None for g in go]))
    output, (h, c) = lstm(torch.randn(2, 5, 3, requires_grad=True))
    output.sum().backward()
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    mha.register_full_backward_hook(lambda mod, gi, go: seen.append([g is None for g in go]))
    x = torch.randn(1, 3, 4, requires_grad=True)
    attn, weights = mha(x, x, x, need_weights=False)
    attn.sum().backward()
    assert seen == [[False, True], [False, True]] and weights is None


def test_unused_input_of_autograd_grad_in_pytorchs_words():
    a, b = torch.randn(2, requires_grad=True), torch.randn(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="^The differentiated Tensor at index 1 appears to not "):
        torch.autograd.grad((a * 2).sum(), [a, b])


def test_multihead_attention_projects_with_out_proj_weights_not_its_forward():
    """PyTorch's MultiheadAttention uses ``out_proj.weight``/``bias`` directly: hooks on
    ``out_proj`` never run (minigrad called the module, so they did)."""
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    calls = []
    mha.out_proj.register_forward_hook(lambda *args: calls.append(1))
    x = torch.randn(1, 3, 4)
    out, _ = mha(x, x, x)
    with torch.no_grad():
        mha.out_proj.weight.mul_(2)  # its bias starts at zero
    doubled, _ = mha(x, x, x)
    assert calls == [] and torch.allclose(doubled, 2 * out, atol=1e-6)
