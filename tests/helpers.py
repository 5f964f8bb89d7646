"""Turning op-table samples into minigrad and PyTorch arguments, and comparing results."""

from __future__ import annotations

import numpy as np

import minigrad
from minigrad.testing.samples import Index, Mask, Typed, make_arrays, wants_grad


def build(op, index, m, dtype_name="float64", device="cpu"):
    """The sample's arguments for module ``m`` (minigrad or torch), and which need grad."""
    specs = op.samples[index].args
    args, grad_args = [], []
    for spec, a in zip(specs, make_arrays(op, index)):
        if not isinstance(a, np.ndarray):
            args.append(a)
            continue
        if isinstance(spec, (Index, Mask, Typed)):
            t = _to(m, a, None, device)
        else:
            t = _to(m, a.astype(dtype_name), dtype_name, device)
            if op.grad and wants_grad(spec):
                t.requires_grad_(True)
                grad_args.append(t)
        args.append(t)
    return args, grad_args


def _to(m, a, dtype_name, device):
    if m is minigrad:
        if device == "cpu":
            return minigrad.as_tensor(a)  # keeps non-contiguous (transposed) layouts
        return minigrad.tensor(a, device=device)
    return m.tensor(a) if dtype_name is None else m.tensor(a, dtype=getattr(m, dtype_name))


def outputs(result) -> list:
    """A result as a flat list (tuples, named tuples and lists of tensors)."""
    if isinstance(result, (tuple, list)):
        return [x for r in result for x in outputs(r)]
    return [result]


def to_numpy(t) -> np.ndarray:
    if isinstance(t, minigrad.Tensor):
        return t.detach().cpu().numpy()
    if hasattr(t, "detach"):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def check_layer_matches_torch(name, args, kwargs, shapes, device, positive=False):
    """``minigrad.nn.<name>`` against ``torch.nn.<name>`` with copied weights: repr, state-dict
    keys, output and gradients (inputs and parameters) in float64. ``positive`` draws inputs
    away from 0 (fractional powers)."""
    import torch

    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(minigrad.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    state = {k: minigrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict(state)
    ours = ours.double().to(device)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    if positive:
        arrays = [np.abs(a) + 0.1 for a in arrays]
    xs_m = [minigrad.tensor(a, requires_grad=True, device=device) for a in arrays]
    xs_t = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_m, out_t = ours(*xs_m), theirs(*xs_t)
    np.testing.assert_allclose(out_m.detach().cpu().numpy(), out_t.detach().numpy(), atol=1e-12)
    weights = rng.standard_normal(tuple(out_t.shape))
    (out_m * minigrad.tensor(weights, device=device)).sum().backward()
    (out_t * torch.tensor(weights)).sum().backward()
    for a, b in zip([*xs_m, *ours.parameters()], [*xs_t, *theirs.parameters()]):
        np.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.numpy(), atol=1e-10)
