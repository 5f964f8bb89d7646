"""L-BFGS, a quasi-Newton method with a limited memory of past steps (``torch.optim.LBFGS``)."""

from __future__ import annotations

from .. import backend
from ..autograd import grad_mode
from ..autograd.graph import version_counter
from ..tensor import Tensor
from ._line_search import _cubic_interpolate, _strong_wolfe, _wolfe_search  # noqa: F401
from .optimizer import Optimizer

_STATE_KEYS = (
    "func_evals",
    "n_iter",
    "d",
    "t",
    "old_dirs",
    "old_stps",
    "ro",
    "H_diag",
    "prev_flat_grad",
    "prev_loss",
    "al",
)


class LBFGS(Optimizer):
    r"""L-BFGS with PyTorch's algorithm, defaults and state (``torch.optim.LBFGS``).

    Each ``step(closure)`` runs up to ``max_iter`` iterations. An iteration builds the search
    direction :math:`d = -H g` with the two-loop recursion over the last ``history_size``
    pairs :math:`(s_k, y_k)` (parameter and gradient changes, kept when
    :math:`y_k^\top s_k > 10^{-10}`), scaled by :math:`H_0 = y^\top s / y^\top y`; then moves
    :math:`\theta \leftarrow \theta + t d`, with :math:`t` = ``lr`` (the first iteration:
    :math:`\min(1, 1/\lVert g\rVert_1)\,\mathrm{lr}`) or, with ``line_search_fn="strong_wolfe"``,
    a step satisfying the strong Wolfe conditions (:math:`c_1 = 10^{-4}`, :math:`c_2 = 0.9`,
    cubic interpolation, within the ``max_eval`` evaluations the step has left, as PyTorch
    2.13's). It stops early when the largest gradient entry is at most ``tolerance_grad``, or
    the step or the change of loss is below ``tolerance_change``, or after ``max_eval``
    evaluations of the closure.

    Args:
        params: the tensors to optimize (one param group only, as in PyTorch).
        lr: learning rate (default 1).
        max_iter: iterations per ``step`` (default 20).
        max_eval: closure evaluations per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: first-order optimality tolerance (default 1e-7).
        tolerance_change: tolerance on step and loss changes (default 1e-9).
        history_size: number of (s, y) pairs kept (default 100).
        line_search_fn: None or ``"strong_wolfe"``.

    Example:
        >>> opt = minigrad.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); return loss
        >>> opt.step(closure)

    Every parameter is flattened into one vector per iteration, and the scalars of the method
    (dot products, the step length) are read back to the host, as PyTorch does.
    """

    _state_keys = _STATE_KEYS

    def __init__(
        self,
        params,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError(
                f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}"
            )
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(
                "LBFGS doesn't support per-parameter options (parameter groups): pass one "
                "iterable of tensors"
            )
        self._params = self.param_groups[0]["params"]

    def _load_param_state(self, p, key, saved) -> dict:
        """L-BFGS keeps flat vectors (all parameters joined), not per-parameter tensors."""
        if not isinstance(saved, dict):
            raise ValueError(f"state of parameter {key} must be a dict, got {type(saved).__name__}")
        unknown = sorted(map(str, set(saved) - set(_STATE_KEYS)))
        if unknown:
            raise ValueError(f"loaded state dict is not from LBFGS: its state has {unknown}")

        def move(value):
            if isinstance(value, list):
                return [move(v) for v in value]
            if hasattr(value, "_data"):
                return value.detach().to(p.device, p.dtype).clone()
            return value

        return {k: move(v) for k, v in saved.items()}

    # -- the flat vector of all parameters ---------------------------------------------------
    def _xp(self):
        return self._params[0].device.xp

    def _flat_grad(self):
        xp = self._xp()
        parts = [
            xp.zeros(_as_real(p._data).size, _as_real(p._data).dtype)
            if p.grad is None
            else _as_real(p.grad._data).reshape(-1)
            for p in self._params
        ]
        return xp.concatenate(parts)

    def _add_to_params(self, step: float, direction) -> None:
        offset = 0
        for p in self._params:
            data = _as_real(p._data)  # a view: a complex parameter moves as (real, imag) pairs
            n = data.size
            data += step * direction[offset : offset + n].reshape(data.shape)
            version_counter(p).value += 1
            offset += n

    def _set_params(self, arrays) -> None:
        for p, a in zip(self._params, arrays):
            p._data[...] = a
            version_counter(p).value += 1

    def _evaluate(self, closure) -> float:
        with grad_mode.enable_grad():
            loss = closure()
        return float(loss)  # called under no_grad (as PyTorch): float() of it does not warn

    def _directional_evaluate(self, closure, start, t: float, d):
        """Loss and flat gradient at ``start + t d``; the parameters are put back at ``start``."""
        self._add_to_params(t, d)
        loss = self._evaluate(closure)
        flat_grad = self._flat_grad()
        self._set_params(start)
        return loss, flat_grad

    # -- the step ------------------------------------------------------------------------------
    def step(self, closure):
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss of the first evaluation.

        Args:
            closure: re-evaluates the model: zeroes gradients, computes the loss, calls
                ``backward()`` and returns the loss. Required.
        """
        if closure is None:
            raise RuntimeError("LBFGS.step requires a closure that re-evaluates the model")
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with grad_mode.enable_grad():
            orig_loss = closure()
        state["func_evals"] += 1
        with grad_mode.no_grad(), backend.on(self._params[0].device):  # the params' GPU
            self._iterate(closure, group, state, float(orig_loss))
        return orig_loss

    def _iterate(self, closure, group: dict, state: dict, loss: float) -> None:
        xp = self._xp()
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        if isinstance(lr, Tensor):  # a tensor lr (PyTorch takes one): its value
            lr = lr.item()
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        flat_grad = self._flat_grad()
        if float(xp.abs(flat_grad).max()) <= tol_grad:
            return
        memory = _Memory.from_state(state, group["history_size"])
        d, t = _array(state.get("d")), state.get("t")
        prev_flat_grad, prev_loss = _array(state.get("prev_flat_grad")), state.get("prev_loss")
        evals = 1
        for n_iter in range(1, max_iter + 1):
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                memory.reset()
            else:
                memory.add(xp, flat_grad - prev_flat_grad, d * t)
                d = memory.direction(xp, flat_grad)
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(xp.dot(flat_grad, d))
            if gtd > -tol_change:  # not a descent direction
                break
            if group["line_search_fn"] == "strong_wolfe":
                start = [p._data.copy() for p in self._params]

                def objective(t_, d_=d, start_=start):
                    return self._directional_evaluate(closure, start_, t_, d_)

                loss, flat_grad, t, ls_evals = _wolfe_search(  # (the evaluations left: max_ls)
                    objective, xp, t, d, loss, flat_grad, gtd, tol_change, max_ls=max_eval - evals
                )
                self._add_to_params(t, d)
                optimal = float(xp.abs(flat_grad).max()) <= tol_grad
            else:
                self._add_to_params(t, d)
                ls_evals, optimal = 0, False
                if n_iter != max_iter:  # re-evaluate unless this was the last iteration
                    loss = self._evaluate(closure)
                    flat_grad = self._flat_grad()
                    optimal = float(xp.abs(flat_grad).max()) <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or evals >= max_eval or optimal:
                break
            if float(xp.abs(d * t).max()) <= tol_change or abs(loss - prev_loss) < tol_change:
                break
        memory.to_state(state, self._params[0])
        state.update(
            d=_tensor_like(self._params[0], d),
            t=t,
            prev_flat_grad=_tensor_like(self._params[0], prev_flat_grad),
            prev_loss=prev_loss,
        )


class _Memory:
    """The last ``size`` pairs (y = gradient change, s = step) and the two-loop recursion."""

    def __init__(self, size: int, dirs, stps, ro, h_diag, al):
        self.size, self.dirs, self.stps, self.ro, self.h_diag = size, dirs, stps, ro, h_diag
        self.al = al  # made by the first two-loop recursion, as PyTorch's state["al"]

    @classmethod
    def from_state(cls, state: dict, size: int) -> _Memory:
        dirs = [_array(a) for a in state.get("old_dirs", [])]
        stps = [_array(a) for a in state.get("old_stps", [])]
        al = list(state["al"]) if "al" in state else None
        return cls(size, dirs, stps, list(state.get("ro", [])), state.get("H_diag", 1), al)

    def to_state(self, state: dict, param) -> None:
        """Store the pairs as tensors on the parameters' device, so state_dict can be saved."""
        state.update(
            old_dirs=[_tensor_like(param, a) for a in self.dirs],
            old_stps=[_tensor_like(param, a) for a in self.stps],
            ro=list(self.ro),
            H_diag=self.h_diag,
        )
        if self.al is not None:
            state["al"] = list(self.al)

    def reset(self) -> None:
        self.dirs, self.stps, self.ro, self.h_diag = [], [], [], 1

    def add(self, xp, y, s) -> None:
        """Keep the pair if it satisfies the curvature condition y·s > 1e-10."""
        ys = float(xp.dot(y, s))
        if ys > 1e-10:
            if len(self.dirs) == self.size:
                del self.dirs[0], self.stps[0], self.ro[0]
            self.dirs.append(y)
            self.stps.append(s)
            self.ro.append(1.0 / ys)
            self.h_diag = ys / float(xp.dot(y, y))

    def direction(self, xp, flat_grad):
        """-H·g by the two-loop recursion."""
        q = -flat_grad
        if self.al is None:
            self.al = [None] * self.size
        for i in range(len(self.dirs) - 1, -1, -1):
            self.al[i] = float(xp.dot(self.stps[i], q)) * self.ro[i]
            q -= self.al[i] * self.dirs[i]
        r = q * self.h_diag
        for i in range(len(self.dirs)):
            beta = float(xp.dot(self.dirs[i], r)) * self.ro[i]
            r += (self.al[i] - beta) * self.stps[i]
        return r


def _array(value):
    """A state entry as a backend array (state may hold tensors after a state_dict load)."""
    return value._data if hasattr(value, "_data") else value


def _tensor_like(param, array):
    return None if array is None else type(param)._make(array, param.device)


def _as_real(a):
    """A complex array as its interleaved (real, imag) floats (a view, as PyTorch's LBFGS
    ``view_as_real``); a real array as it is."""
    if a.dtype.kind != "c":
        return a
    return a.reshape(a.shape + (1,)).view(a.real.dtype).reshape(a.shape + (2,))
