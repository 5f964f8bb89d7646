"""Turning op-table samples into minigrad and PyTorch arguments, and comparing results."""

from __future__ import annotations

import numpy as np

import minigrad
from minigrad.testing.samples import C, Index, Mask, Typed, make_arrays, wants_grad

COMPLEX_OF = {"float32": "complex64", "float64": "complex128"}


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
        else:  # complex specs (C) in the complex dtype of dtype_name's width
            name = COMPLEX_OF[dtype_name] if isinstance(spec, C) else dtype_name
            t = _to(m, a.astype(name), name, device)
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


# -- optimizer trajectories (tests/test_optim.py, tests/test_optim2.py) ------------------------
def optimizer_data(shapes, seed=0, steps=50):
    """Start values for parameters of ``shapes`` and ``steps`` rounds of gradients for them."""
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal(shape) for shape in shapes]
    grads = [[rng.standard_normal(shape) for shape in shapes] for _ in range(steps)]
    return start, grads


def float64_params(arrays, device="cpu"):
    """Leaf float64 parameters holding ``arrays``."""
    return [
        minigrad.tensor(a, dtype=minigrad.float64, device=device, requires_grad=True)
        for a in arrays
    ]


def run_optimizer(opt, params, grads):
    """Feed ``grads`` to ``opt``; returns the parameter values after each step."""
    trajectory = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = minigrad.tensor(g, dtype=minigrad.float64, device=p.device)
        opt.step()
        trajectory.append([p.detach().cpu().numpy().copy() for p in params])
    return trajectory


def resume_halfway(make, starts, grads, path):
    """The last parameter values of an uninterrupted run over ``grads`` and of a run stopped at
    the half, saved (parameters and optimizer state, with minigrad.save), loaded and resumed.
    ``make(params, resumed)`` builds the optimizer; the resumed one (``resumed=True``) must take
    its hyperparameters from the loaded state."""
    params = float64_params(starts)
    full = run_optimizer(make(params, False), params, grads)
    params = float64_params(starts)
    opt = make(params, False)
    half = len(grads) // 2
    run_optimizer(opt, params, grads[:half])
    minigrad.save({"params": params, "optimizer": opt.state_dict()}, path)
    del opt, params
    ckpt = minigrad.load(path)
    params = [p.detach().requires_grad_() for p in ckpt["params"]]
    opt = make(params, True)
    opt.load_state_dict(ckpt["optimizer"])
    return full[-1], run_optimizer(opt, params, grads[half:])[-1]
