"""Fixes found by the fifteenth round's programs (tests/test_programs15a.py), each checked
against PyTorch: torch.multinomial's argument checks, in PyTorch's order and words, and
torch.utils.checkpoint's reentrant variant (PyTorch's default) and its rules."""

import warnings
from importlib import import_module

import pytest

import minigrad

torch = pytest.importorskip("torch")


def _message(lib, call):
    with pytest.raises(RuntimeError) as info:
        call(lib)
    return str(info.value)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda t: t.multinomial(t.tensor([1, 2]), 1), "only supports floating-point dtypes"),
        (lambda t: t.tensor([True, False]).multinomial(1), "got: Bool"),
        (lambda t: t.multinomial(t.tensor([0.2, 0.8]), 0), "cannot sample n_sample <= 0 samples"),
        (lambda t: t.multinomial(t.tensor([0.2, 0.8]), -1, True), "n_sample <= 0"),
        (lambda t: t.multinomial(t.tensor([0.2, 0.8]), 3), "n_sample > prob_dist.size(-1)"),
        (lambda t: t.multinomial(t.tensor([0.2, -0.8]), 1), "either `inf`, `nan` or element < 0"),
        (lambda t: t.multinomial(t.tensor([[1, 2]]).long(), 0), "floating-point"),  # dtype first
    ],
)
def test_multinomial_checks_match_pytorch(call, words):
    """A long tensor of counts (bincount's output) or num_samples=0 raised nothing or drew from
    integers; PyTorch refuses both. Its messages are the ones people search for."""
    assert words in _message(torch, call)
    assert words in _message(minigrad, call)


def test_multinomial_float_inputs_still_draw_pytorchs_samples():
    weights = [0.1, 0.2, 0.3, 0.4]
    draws = []
    for lib in (minigrad, torch):
        g = lib.Generator().manual_seed(3)
        draws.append(lib.multinomial(lib.tensor(weights).double(), 6, True, generator=g).tolist())
    assert draws[0] == draws[1]


def _checkpoint_cases(lib):
    """What a training script sees from checkpoint's two variants, recorded for comparison."""
    checkpoint = import_module(f"{lib.__name__}.utils.checkpoint").checkpoint
    lin = lib.nn.Linear(3, 3)
    frozen_input = lib.ones(2, 3)  # e.g. embeddings of a frozen stem
    seen = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = checkpoint(lin, frozen_input, use_reentrant=True)
        seen.append((out.requires_grad, out.grad_fn is None))
        out = checkpoint(lin, frozen_input, use_reentrant=False)
        seen.append((out.requires_grad, out.grad_fn is None))
        out = checkpoint(lin, frozen_input.clone().requires_grad_())  # left out: reentrant
        seen.append((out.requires_grad, out.grad_fn is None))
    seen.append(sorted({str(w.message).replace("minigrad.", "torch.")[:40] for w in caught}))
    for kwargs in ({"use_reentrant": True, "scale": 2.0}, {"use_reentrant": True, "debug": True}):
        try:
            checkpoint(lambda t, scale=1.0: t * scale, frozen_input, **kwargs)
        except ValueError as exc:
            seen.append(str(exc))
    out = checkpoint(lambda t, scale=1.0: t * scale, frozen_input, use_reentrant=False, scale=2.0)
    seen.append(out.sum().item())
    return seen


def test_checkpoint_reentrant_variant_rules_match_pytorch():
    """use_reentrant=True (PyTorch's default when left out, with its warning) gives no gradient
    when no input requires grad, even to the parameters inside: the trap PyTorch warns about
    ("Gradients will be None"); minigrad gave the parameters gradients. Keyword arguments for
    the function are refused in that variant and accepted in the other."""
    ours, theirs = _checkpoint_cases(minigrad), _checkpoint_cases(torch)
    assert ours == theirs
    assert ours[0] == (False, True) and ours[1] == (True, False)
    assert ours[4] == "Unexpected keyword arguments: scale"


def _quantile_cov_errors(lib):
    """The errors a scoring script meets with quantile thresholds and weighted covariances."""
    x = lib.arange(12.0).reshape(3, 4)
    calls = [
        lambda: lib.quantile(x, lib.tensor([0.5], dtype=lib.float64)),  # q double, input float
        lambda: lib.quantile(x.double(), lib.tensor([0.5])),
        lambda: lib.nanquantile(x, lib.tensor(0.5).double(), dim=1),
        lambda: lib.quantile(x, 0.5, interpolation="cubic"),
        lambda: lib.cov(x, fweights=lib.tensor([1, -1, 2, 1])),
        lambda: lib.cov(x, aweights=lib.tensor([0.5, -0.5, 1.0, 1.0])),
    ]
    seen = []
    for call in calls:
        with pytest.raises(RuntimeError) as info:  # not ValueError, nor a matrix of infs
            call()
        seen.append(str(info.value).removeprefix("nan"))  # names the op
    seen.append(lib.cov(x, fweights=lib.tensor([1, 0, 2, 1])).tolist())  # zeros are allowed
    return seen


def test_quantile_and_cov_argument_checks_match_pytorch():
    """quantile converted a q tensor of another dtype silently and raised ValueError for an
    unknown interpolation; cov with a negative frequency or observation weight returned infs.
    PyTorch raises RuntimeError for all of them, in these words."""
    assert _quantile_cov_errors(minigrad) == _quantile_cov_errors(torch)
