"""The strong-Wolfe line search of LBFGS (``line_search_fn="strong_wolfe"``), on backend
arrays for LBFGS and on tensors under PyTorch's private names (``torch.optim.lbfgs``'s
``_strong_wolfe`` and ``_cubic_interpolate``, which pytorch-minimize imports)."""

from __future__ import annotations

import math
from types import SimpleNamespace


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to ``bounds``
    (default: the interval between x1 and x2); the midpoint when the cubic has no minimum."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if not d2_square >= 0:  # (NaN too, as PyTorch)
        return (low + high) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, low), high)


_cubic_interpolate = _cubic_minimum  # PyTorch's name (pytorch-minimize imports it)

# Tensor operations under the names the line search calls on an array module.
_TENSOR_NS = SimpleNamespace(abs=lambda a: a.abs(), dot=lambda a, b: a.dot(b))


def _strong_wolfe(
    obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25
):  # fmt: skip
    """PyTorch's line search on tensors (pytorch-minimize calls it): ``obj_func(x, t, d)``
    gives ``(loss, flat_grad)`` at ``x + t·d``; returns ``(loss, flat_grad, t, evaluations)``,
    the same search LBFGS runs on arrays."""
    return _wolfe_search(
        lambda step: obj_func(x, step, d), _TENSOR_NS, t, d, f, g, gtd, tolerance_change,
        c1, c2, max_ls,
    )  # fmt: skip


def _wolfe_search(objective, xp, t, d, f, g, gtd, tolerance_change, c1=1e-4, c2=0.9, max_ls=25):
    """A step length t satisfying the strong Wolfe conditions along ``d``.

    Returns ``(loss, flat_grad, t, evaluations)``. First brackets an acceptable step (growing
    it by cubic extrapolation), then zooms into the bracket by cubic interpolation.
    """
    d_norm = float(xp.abs(d).max())
    f_new, g_new = objective(t)
    evals = 1
    gtd_new = float(xp.dot(g_new, d))
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done, ls_iter = False, 0
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, done = [[t, f_new, g_new, gtd_new]], True
            break
        if gtd_new >= 0:
            bracket = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        low, high = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, (low, high))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = objective(t)
        evals += 1
        gtd_new = float(xp.dot(g_new, d))
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = [[0.0, f, g, None], [t, f_new, g_new, None]]
    if done:
        return bracket[0][1], bracket[0][2], bracket[0][0], evals
    return _zoom(
        objective, xp, bracket, d, d_norm, f, gtd, tolerance_change, c1, c2, max_ls, ls_iter, evals
    )


def _zoom(
    objective, xp, bracket, d, d_norm, f, gtd, tolerance_change, c1, c2, max_ls, ls_iter, evals
):
    """Shrink a bracket [[t, f, g, gtd], [t, f, g, gtd]] around a strong-Wolfe step."""
    insufficient_progress = False
    low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
    while ls_iter < max_ls:
        (t0, f0, _, gtd0), (t1, f1, _, gtd1) = bracket
        if abs(t1 - t0) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(t0, f0, gtd0, t1, f1, gtd1)
        top, bottom = max(t0, t1), min(t0, t1)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:  # too close to an end: move away from it
            if insufficient_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = objective(t)
        evals += 1
        gtd_new = float(xp.dot(g_new, d))
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = [t, f_new, g_new, gtd_new]
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                bracket[low] = [t, f_new, g_new, gtd_new]
                break
            if gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = [t, f_new, g_new, gtd_new]
    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evals
