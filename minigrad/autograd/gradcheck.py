"""Gradient checks: analytic gradients against central finite differences (in float64 where
the inputs are, as they should be)."""

from __future__ import annotations

import numpy as np

from .. import backend, dtypes
from .._sparse_compressed import SparseCompressed
from .._sparse_coo import SparseCOO
from .._warnings import warn_user
from . import engine, graph


class GradcheckError(RuntimeError):
    """Analytic and numerical gradients disagree."""


def gradcheck(
    func,
    inputs,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
    seed: int = 0,
) -> bool:
    """Check ``func``'s gradients at ``inputs`` against central differences.

    Backward (``check_backward_ad``, default): for each floating or complex output a random
    upstream gradient ``v`` (never all ones, which hides transposition bugs) is drawn; the
    vector-Jacobian product ``vᵀJ`` from backward is compared, for every input that requires
    grad, element by element with ``(f(x + eps·eᵢ) - f(x - eps·eᵢ))·v / (2·eps)``; backward
    runs twice and the two results may differ by at most ``nondet_tol``. Forward
    (``check_forward_ad``): the tangent of every output for each basis direction ``eᵢ`` of each
    input, by :mod:`minigrad.autograd.forward_ad`, against the same differences. A value
    passes where ``|analytic - numeric| <= atol + rtol·|numeric|``.

    Complex tensors are checked as pairs of real numbers, under PyTorch's convention: with the
    real function ``L = Re Σ conj(v)·output``, backward from ``v`` must give every complex
    input ``∂L/∂Re x + i·∂L/∂Im x`` (both parts are differenced) and every real input ``∂L/∂x``.

    Args:
        func: maps the inputs to a tensor or a tuple of tensors.
        inputs: a tensor or tuple; those with ``requires_grad`` are checked, best in float64 or
            complex128 (others get PyTorch's warning and are differenced in their precision).
        raise_exception: raise :class:`GradcheckError` naming the worst element (default),
            or return False.
        check_grad_dtypes: also require each gradient to have its input's dtype.
        fast_mode: accepted; minigrad always runs the full (element by element) check, which
            is stricter than PyTorch's fast mode.
        check_undefined_grad: accepted; minigrad's engine gives backward zeros for outputs
            that got no gradient, so there is no separate undefined-gradient path to check.
        check_batched_grad, check_batched_forward_grad, masked: not implemented (True raises
            NotImplementedError).

    Returns:
        True if every gradient matches.
    """
    for name, flag in (
        ("check_batched_grad", check_batched_grad),
        ("check_batched_forward_grad", check_batched_forward_grad),
        ("masked", masked),
    ):
        if flag:
            raise NotImplementedError(f"gradcheck: {name}=True is not implemented in minigrad")
    func, inputs = _sparse_through_values(func, _as_inputs(inputs))
    checks = (check_backward_ad, check_grad_dtypes, check_forward_ad)
    failure = _first_failure(func, func, inputs, checks, eps, atol, rtol, nondet_tol, seed)
    return _verdict(failure, raise_exception)


def _first_failure(func, values, inputs, checks, eps, atol, rtol, nondet_tol, seed) -> str | None:
    """gradcheck's checks (``checks``: backward, grad dtypes, forward) on dense ``inputs``.
    ``values`` gives ``func``'s outputs for the finite differences, where the analytic side
    needs more than they do (gradgradcheck: first derivatives without create_graph)."""
    backward_ad, grad_dtypes, forward_ad = checks
    checked = _checked_inputs(inputs)
    failure = None
    if backward_ad:
        failure = _check_backward(func, values, inputs, checked, eps, atol, rtol, nondet_tol, seed)
    if failure is None and grad_dtypes and backward_ad:
        failure = _check_dtypes(func, inputs, checked)
    if failure is None and forward_ad:
        failure = _check_forward(func, values, inputs, checked, eps, atol, rtol)
    return failure


def _verdict(failure: str | None, raise_exception: bool) -> bool:
    if failure is None:
        return True
    if raise_exception:
        raise GradcheckError(failure)
    return False


def _is_sparse(x) -> bool:
    return isinstance(x, graph.Tensor) and type(x._data) in (SparseCOO, SparseCompressed)


def dense_results(result):
    """``result`` with every sparse tensor in it (nested in tuples and lists) made dense: the
    form in which gradcheck compares a function's outputs."""
    if _is_sparse(result):
        return result.to_dense()
    if isinstance(result, (tuple, list)):
        return type(result)(dense_results(r) for r in result)
    return result


def _sparse_through_values(func, inputs: tuple):
    """``(func, inputs)`` with sparse COO tensors checked through their values: a sparse input
    that requires grad becomes a leaf of its values, which ``func`` is given back as a sparse
    tensor of the same indices (the derivative with respect to its specified entries, as
    PyTorch's gradcheck takes it), and a sparse output is compared in its dense form."""

    if not any(_is_sparse(x) for x in inputs):
        return (lambda *args: dense_results(func(*args))), inputs
    from ..sparse import _compressed, _core  # (the sparse layer sits above autograd)

    patterns = {}
    leaves = list(inputs)
    for i, x in enumerate(inputs):
        if _is_sparse(x) and x.requires_grad:
            rec = x._data
            if type(rec) is SparseCOO:
                patterns[i] = (_core.make, rec.indices, rec.shape, rec.coalesced)
            else:  # a compressed layout: its values, rebuilt with its index arrays
                patterns[i] = (_compressed.make, rec.compressed, rec.plain, rec.shape, rec.layout)
            leaves[i] = graph.Tensor._make(rec.values.copy(), x.device).requires_grad_()

    def through_values(*args):
        args = list(args)
        for i, (make, *pattern) in patterns.items():
            if make is _core.make:
                indices, shape, coalesced = pattern
                args[i] = make(indices, args[i], shape, coalesced)
            else:
                compressed, plain, shape, layout = pattern
                args[i] = make(compressed, plain, args[i], shape, layout)
        return dense_results(func(*args))

    return through_values, tuple(leaves)


def _as_inputs(inputs) -> tuple:
    if isinstance(inputs, tuple):
        return inputs
    return tuple(inputs) if isinstance(inputs, list) else (inputs,)


def _check_backward(func, values, inputs, checked, eps, atol, rtol, nondet_tol, seed) -> str | None:
    """The first mismatch of vᵀJ by backward against central differences (None if none)."""
    rng = np.random.default_rng(seed)
    outputs = _float_outputs(func(*inputs))
    vs = [out.new_tensor(_upstream(rng, out)) for out in outputs]
    # every output's differences from the same evaluations: one call of func per step
    hosted = [_widened(v.device.backend.to_host(v._data)) for v in vs]
    numeric = {i: _numeric(values, inputs, i, hosted, eps) for i in checked}
    for k, (out, v) in enumerate(zip(outputs, vs)):
        analytic = _analytic(out, [inputs[i] for i in checked], v)
        again = _analytic(out, [inputs[i] for i in checked], v)
        for i, a, b in zip(checked, analytic, again):
            if a is not None and b is not None:
                gap = float((a - b).abs().max().item()) if a.numel() else 0.0
                if gap > nondet_tol:
                    return (
                        f"Backward is not reentrant, i.e., running backward with same input and "
                        f"grad_output multiple times gives different values for input {i} "
                        f"(largest difference {gap}, nondet_tol={nondet_tol})"
                    )
            failure = _compare(a, numeric[i][k], atol, rtol)
            if failure is not None:
                return f"Jacobian mismatch for output {k} with respect to input {i},{failure}"
    return None


def _check_dtypes(func, inputs, checked) -> str | None:
    for out in _float_outputs(func(*inputs)):
        if not out.requires_grad:
            continue
        grads = _analytic(out, [inputs[i] for i in checked], out.new_ones(out.shape))
        for i, g in zip(checked, grads):
            if g is not None and g.dtype != inputs[i].dtype:
                return (
                    f"Gradient has dtype mismatch: input {i} is {inputs[i].dtype}, grad {g.dtype}"
                )
    return None


def _check_forward(func, values, inputs, checked, eps, atol, rtol) -> str | None:
    """The first mismatch of J·eᵢ by forward-mode AD against central differences."""
    from . import forward_ad

    for i in checked:
        x = inputs[i]
        columns = _numeric_columns(values, inputs, i, eps)
        for n, idx in enumerate(np.ndindex(*x.shape)):
            direction = np.zeros(x.shape)
            direction[idx] = 1.0
            with forward_ad.dual_level():
                duals = list(inputs)
                duals[i] = forward_ad.make_dual(x, x.new_tensor(direction))
                outs = _float_outputs(func(*duals))
                tangents = [forward_ad.unpack_dual(o).tangent for o in outs]
            for k, (o, t) in enumerate(zip(outs, tangents)):
                failure = _compare(
                    None if t is None else t.detach(), columns[k][n].reshape(o.shape), atol, rtol
                )
                if failure is not None:
                    return (
                        f"Jacobian computed with forward mode mismatch for output {k} with "
                        f"respect to input {i}, direction {idx},{failure}"
                    )
    return None


def _numeric_columns(func, inputs, i, eps) -> list:
    """Per output, the central-difference Jacobian columns ``(numel(input_i), numel(out))``."""
    x = inputs[i]
    values = x.device.backend.to_host(x._data)
    columns = None
    for n, idx in enumerate(np.ndindex(*x.shape)):
        original = float(values[idx])
        x._data[idx] = original + eps
        plus = [_host(o) for o in _float_outputs(func(*inputs))]
        x._data[idx] = original - eps
        minus = [_host(o) for o in _float_outputs(func(*inputs))]
        x._data[idx] = original
        if columns is None:
            columns = [np.zeros((x.numel(), p.size)) for p in plus]
        for col, p, m in zip(columns, plus, minus):
            col[n] = ((p - m) / (2 * eps)).reshape(-1)
    return columns or []


def _host(t) -> np.ndarray:
    return t.device.backend.to_host(t.detach()._data).astype(np.float64)


def gradgradcheck(
    func,
    inputs,
    grad_outputs=None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
    seed: int | None = None,
) -> bool:
    """Check second derivatives: :func:`gradcheck` of the map (inputs, v) -> vᵀJ built with
    create_graph, by backward (``check_rev_over_rev``) and by forward mode over it
    (``check_fwd_over_rev``). ``gen_non_contig_grad_outputs`` is accepted (minigrad's random
    grad outputs are contiguous); the other flags are :func:`gradcheck`'s.

    The finite differences are taken of vᵀJ computed without create_graph (it has the same
    values and costs less; a step in v reruns backward on the same forward), and vᵀJ with
    and without create_graph must agree at the inputs: stricter than PyTorch, whose check
    passes first derivatives that are wrong only under create_graph if their graph agrees
    with them.

    Without ``grad_outputs``, v is drawn from U(-1, 1) as PyTorch draws it: from the global
    generator (``seed=None``, so a seeded program draws the same v and the same later numbers),
    or from a private NumPy generator seeded with ``seed`` (minigrad's own option)."""
    func, inputs = _sparse_through_values(func, _as_inputs(inputs))
    checked = _checked_inputs(inputs, warn=False)  # (the gradcheck below warns)
    outputs = _float_outputs(func(*inputs))
    if grad_outputs is None:
        grad_outputs = _random_grad_outputs(outputs, seed)
    grad_outputs = _as_inputs(grad_outputs)  # (one tensor: the one output's, as PyTorch)
    seed = 0 if seed is None else seed
    n = len(inputs)

    def first_derivatives(*args):
        ins, vs = args[:n], args[n:]
        outs = _float_outputs(func(*ins))
        grads = engine.grad(
            [o for o in outs if o.requires_grad],
            [ins[i] for i in checked],
            [v for o, v in zip(outs, vs) if o.requires_grad],
            create_graph=True,
            allow_unused=True,
        )
        return tuple(g for g in grads if g is not None)

    forward = {}  # the last forward's graph, its outputs and the inputs' values it ran on

    def values(*args):
        """The first derivatives without create_graph, which is all the differences need; a
        difference in v (the upstream gradient) runs backward again on the same forward."""
        ins, vs = args[:n], args[n:]
        at = [ins[i].device.backend.to_host(ins[i]._data).copy() for i in checked]
        if "at" not in forward or not all(map(np.array_equal, at, forward["at"])):
            outs = _float_outputs(func(*ins))
            forward.update(at=at, used=[k for k, o in enumerate(outs) if o.requires_grad])
            forward["outs"] = [outs[k] for k in forward["used"]]
        grads = engine.grad(
            forward["outs"],
            [ins[i] for i in checked],
            [vs[k] for k in forward["used"]],
            retain_graph=True,
            allow_unused=True,
        )
        return tuple(g for g in grads if g is not None)

    for name, flag in (("check_batched_grad", check_batched_grad), ("masked", masked)):
        if flag:
            raise NotImplementedError(f"gradcheck: {name}=True is not implemented in minigrad")
    inputs += grad_outputs
    # The differences below are of the values without create_graph: at the inputs, the values
    # with it must be those (so neither kind of backward's values goes unchecked).
    failure = _same_values(first_derivatives(*inputs), values(*inputs), atol, rtol)
    if failure is None:
        checks = (check_rev_over_rev, check_grad_dtypes, check_fwd_over_rev)
        failure = _first_failure(
            first_derivatives, values, inputs, checks, eps, atol, rtol, nondet_tol, seed + 2
        )
    return _verdict(failure, raise_exception)


def _same_values(with_graph, without, atol, rtol) -> str | None:
    """None where backward with create_graph gave the first derivatives it gives without."""
    if len(with_graph) != len(without):
        return (
            f"Backward with create_graph=True gave {len(with_graph)} gradients, "
            f"without it {len(without)}"
        )
    for k, (a, b) in enumerate(zip(with_graph, without)):
        failure = _compare(a.detach(), _widened(b.device.backend.to_host(b._data)), atol, rtol)
        if failure is not None:
            return f"First derivative {k} differs with create_graph=True and without,{failure}"
    return None


def _random_grad_outputs(outputs, seed) -> tuple:
    """v ~ U(-1, 1) per output: PyTorch's draws (``make_tensor`` on the global generator, one
    per output that requires grad, the others get zeros) or a private generator's."""
    if seed is not None:
        rng = np.random.default_rng(seed + 1)
        return tuple(o.new_tensor(_uniform(rng, -1.0, 1.0, o)).requires_grad_() for o in outputs)
    from ..testing import make_tensor

    return tuple(
        make_tensor(
            tuple(o.shape), dtype=o.dtype, device=o.device, low=-1, high=1, requires_grad=True
        )
        if o.requires_grad
        else o.new_zeros(o.shape).requires_grad_()
        for o in outputs
    )


def _upstream(rng, out) -> np.ndarray:
    """Random weights of magnitude 0.5 to 1.5 and either sign (both parts for complex)."""
    magnitude = _uniform(rng, 0.5, 1.5, out)
    return magnitude * rng.choice([-1, 1], out.shape)


def _uniform(rng, low: float, high: float, out) -> np.ndarray:
    values = rng.uniform(low, high, out.shape)
    if out.is_complex():
        values = values + 1j * rng.uniform(low, high, out.shape) * rng.choice([-1, 1], out.shape)
    return values


def _checked_inputs(inputs, warn: bool = True) -> list[int]:
    """The indices of the inputs that require grad; as PyTorch, a warning for each that is not
    float64 or complex128 (the differences are taken in its own precision, so the check
    likely fails unless ``eps`` and the tolerances are loosened for it)."""
    tensor_cls = graph.Tensor
    checked = []
    for i, x in enumerate(inputs):
        if isinstance(x, tensor_cls) and x.requires_grad:
            if warn and x._data.dtype not in (np.float64, np.complex128):
                warn_user(
                    f"Input #{i} requires gradient and is not a double precision floating point "
                    "or complex. This check will likely fail if all the inputs are not of double "
                    "precision floating point or complex. "
                )
            checked.append(i)
    if not checked:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them "
            "have requires_grad=True."
        )
    return checked


def _float_outputs(result) -> tuple:
    tensor_cls = graph.Tensor
    result = result if isinstance(result, (tuple, list)) else (result,)
    return tuple(
        o for o in result if isinstance(o, tensor_cls) and dtypes.is_differentiable(o._data.dtype)
    )


def _analytic(out, inputs, v) -> list:
    if not out.requires_grad:
        return [None] * len(inputs)
    return list(engine.grad(out, inputs, v, retain_graph=True, allow_unused=True))


def _numeric(func, inputs, i, vs, eps) -> np.ndarray:
    """vₖᵀ ∂output_k/∂input_i by central differences for every output k (axis 0), one element
    of the input at a time (a complex element's real and imaginary parts in turn)."""
    x = inputs[i]
    values = x.device.backend.to_host(x._data)
    directions = (1.0, 1j) if x.is_complex() else (1.0,)
    kind = np.complex128 if x.is_complex() else np.float64
    result = np.zeros((len(vs),) + tuple(x.shape), dtype=kind)
    # Grad mode stays on: gradgradcheck's function itself calls autograd.grad.
    for idx in np.ndindex(*x.shape):
        original = values[idx].item()
        for step in directions:
            x._data[idx] = original + eps * step
            plus = _weighted_sums(func, inputs, vs)
            x._data[idx] = original - eps * step
            minus = _weighted_sums(func, inputs, vs)
            x._data[idx] = original
            result[(slice(None),) + idx] += step * (plus - minus) / (2 * eps)
    return result


def _weighted_sums(func, inputs, vs) -> np.ndarray:
    """``Re Σ conj(vₖ)·output_k`` for every floating or complex output k of ``func(*inputs)``
    (``vs`` on the host): the real functions whose gradients backward from the vₖ gives, in
    float64 on the host (no graph, no ops on the device per evaluation)."""
    outs = _float_outputs(func(*inputs))
    host = [_widened(o.device.backend.to_host(o._data)) for o in outs]
    return np.array([np.vdot(v, h).real for h, v in zip(host, vs)], dtype=np.float64)


def _widened(a: np.ndarray) -> np.ndarray:
    """``a`` in float64, or complex128 when complex."""
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64, copy=False)


def _compare(analytic, numeric: np.ndarray, atol: float, rtol: float) -> str | None:
    """None where ``analytic`` matches ``numeric``; else PyTorch's lines (``numerical:tensor(...)``,
    ``analytical:tensor(...)``, of what was compared: vᵀJ, or a column of J) and the worst element."""
    if analytic is None:
        a = np.zeros_like(numeric)
    else:
        a = analytic.device.backend.to_host(analytic._data).astype(numeric.dtype)
    if a.shape != numeric.shape:
        return f" analytic gradient has shape {a.shape}, numeric {numeric.shape}"
    error = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
    bad = ~(error <= 0)  # NaN counts as a failure
    if not bad.any():
        return None
    worst = np.unravel_index(np.nanargmax(np.where(np.isnan(error), np.inf, error)), a.shape)
    return (
        f"\nnumerical:{graph.Tensor._make(numeric, backend.device('cpu'))!r}"
        f"\nanalytical:{graph.Tensor._make(a, backend.device('cpu'))!r}\n"
        f"(worst at index {tuple(int(i) for i in worst)}: analytical {a[worst].item()!r}, "
        f"numerical {numeric[worst].item()!r}; {int(bad.sum())} of {a.size} elements out of "
        f"tolerance atol={atol}, rtol={rtol})"
    )
