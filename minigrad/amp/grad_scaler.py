"""GradScaler: loss scaling for float16 training, with PyTorch's semantics and numbers.

The loss is multiplied by a scale before backward so that small float16 gradients do not flush
to zero; ``unscale_`` divides the gradients back and records on the device whether any is inf
or NaN; ``step`` skips the optimizer step if so (the one host round trip of a step); ``update``
halves the scale after a skipped step and doubles it after ``growth_interval`` clean ones, on
the device. The scale and the growth tracker are float32/int32 tensors, as in PyTorch.
"""

from __future__ import annotations

from collections import defaultdict
from enum import Enum

from .. import backend
from .._public_name import PublicRepr, public_path
from .._warnings import warn_user
from ..autograd import grad_mode, graph


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state() -> dict:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


def _tensor(value, dtype: str, device):
    xp = device.xp
    with backend.on(device):
        return graph.Tensor._make(xp.full((1,), value, dtype=dtype), device)


class GradScaler(PublicRepr):
    """Scale the loss, unscale gradients, skip steps with inf/NaN gradients, adapt the scale.

    Args:
        device: the device type the scaler is for ("cuda" by default, as PyTorch). When
            ``enabled`` and that device type is not available, it warns and disables itself,
            as PyTorch does (so ``GradScaler(enabled=True)`` is safe on a CPU-only machine).
        init_scale: the first scale (2**16).
        growth_factor: the scale is multiplied by this after ``growth_interval`` clean steps.
        backoff_factor: the scale is multiplied by this after a step with inf/NaN gradients.
        growth_interval: clean steps between growths.
        enabled: False makes every method a pass-through (``scale`` returns its input).

    Example:
        >>> scaler = minigrad.amp.GradScaler("cpu")
        >>> scaler.scale(loss).backward()
        >>> scaler.step(optimizer)   # skipped if a gradient is inf/NaN
        >>> scaler.update()
    """

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ):
        self._device = str(device)
        if enabled and not _available(self._device):
            warn_user(_unavailable_message(self._device))
            enabled = False
        self._enabled = bool(enabled)
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise ValueError("The backoff factor must be < 1.0.")
            self._init_scale = float(init_scale)
            self._scale = None
            self._growth_factor = float(growth_factor)
            self._backoff_factor = float(backoff_factor)
            self._growth_interval = int(growth_interval)
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def is_enabled(self) -> bool:
        return self._enabled

    # -- scaling ----------------------------------------------------------------------------------
    def _lazy_init(self, device) -> None:
        self._scale = _tensor(self._init_scale, "float32", device)
        self._growth_tracker = _tensor(self._init_growth_tracker, "int32", device)

    def _check(self, funcname: str):
        if self._scale is None:
            raise RuntimeError(
                f"Attempted {funcname} but _scale is None. This may indicate your script did not "
                f"use scaler.scale(loss or outputs) earlier in the iteration."
            )
        return self._scale, self._growth_tracker

    def scale(self, outputs):
        """``outputs`` (a tensor, or nested lists/tuples of tensors) times the current scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, graph.Tensor):
            if self._scale is None:
                self._lazy_init(outputs.device)
            return outputs * self._scale.to(outputs.device)
        if isinstance(outputs, (list, tuple)):
            scaled = [self.scale(o) for o in outputs]
            return type(outputs)(scaled) if isinstance(outputs, tuple) else scaled
        if hasattr(outputs, "__iter__"):
            return map(self.scale, outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale in place (once per step), recording on
        the device whether any of them is inf or NaN. Call it before clipping gradients."""
        if not self._enabled:
            return
        self._check("unscale_()")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = (1.0 / self._scale.double()).float()
        state["found_inf_per_device"] = self._unscale_grads(optimizer, inv_scale, False)
        state["stage"] = OptState.UNSCALED

    def _unscale_grads(self, optimizer, inv_scale, allow_fp16: bool) -> dict:
        found = {}
        with grad_mode.no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    if not allow_fp16 and g.dtype.name == "float16":
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    dev = g.device
                    if dev not in found:
                        found[dev] = _tensor(0.0, "float32", dev)
                    xp = dev.xp
                    data = g._data
                    # one fused pass per gradient, all on the device: no host round trip here
                    bad = xp.logical_not(xp.isfinite(data)).any()
                    found[dev]._data += bad.astype(found[dev]._data.dtype)
                    data *= inv_scale.to(dev)._data.astype(data.dtype)
        return found

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` unless the (unscaled) gradients hold inf/NaN; unscales first if
        ``unscale_`` was not called. Returns what ``optimizer.step`` returned, or None."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check("step()")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if not state["found_inf_per_device"]:
            raise RuntimeError("No inf checks were recorded for this optimizer.")
        retval = None
        # the step's one host round trip: did any gradient overflow?
        if not sum(v.item() for v in state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None) -> None:
        """Adapt the scale: ×backoff_factor after a step with inf/NaN gradients, ×growth_factor
        after ``growth_interval`` clean steps in a row (computed on the device). ``new_scale``
        (a float or a 1-element float32 tensor) sets it instead."""
        if not self._enabled:
            return
        scale, tracker = self._check("update()")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale._data[...] = new_scale
            else:
                if not (
                    isinstance(new_scale, graph.Tensor)
                    and new_scale.numel() == 1
                    and new_scale.dtype.name == "float32"
                    and not new_scale.requires_grad
                ):
                    raise ValueError(
                        "new_scale should be a float or a 1-element minigrad float32 tensor "
                        "with requires_grad=False."
                    )
                scale._data[...] = new_scale.to(scale.device)._data.reshape(1)
        else:
            found = [
                f.to(scale.device)
                for s in self._per_optimizer_states.values()
                for f in s["found_inf_per_device"].values()
            ]
            if not found:
                raise RuntimeError("No inf checks were recorded prior to update.")
            total = found[0]._data
            for f in found[1:]:
                total = total + f._data
            self._update_scale(scale, tracker, total)
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _update_scale(self, scale, tracker, found_inf) -> None:
        """PyTorch's ``_amp_update_scale_`` on device arrays: no branch on device values."""
        xp = scale.device.xp
        s, t = scale._data, tracker._data
        inf = found_inf > 0
        successful = t + 1
        grow = xp.logical_and(xp.logical_not(inf), successful == self._growth_interval)
        grown = s * xp.float32(self._growth_factor)
        grow_ok = xp.logical_and(grow, xp.isfinite(grown))
        new_s = xp.where(inf, s * xp.float32(self._backoff_factor), xp.where(grow_ok, grown, s))
        new_t = xp.where(xp.logical_or(inf, grow), 0, successful).astype(t.dtype)
        s[...] = new_s
        t[...] = new_t

    # -- settings and state ----------------------------------------------------------------------
    def get_scale(self) -> float:
        """The current scale as a Python float (a host round trip); 1.0 when disabled."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if self._growth_tracker is None:
            return self._init_growth_tracker
        return int(self._growth_tracker.item())

    def state_dict(self) -> dict:
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval`` and
        ``_growth_tracker``, as PyTorch saves them; empty when disabled."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._get_growth_tracker(),
        }

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled "
                "instance of GradScaler."
            )
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale._data[...] = state_dict["scale"]
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker._data[...] = state_dict["_growth_tracker"]


def _unavailable_message(device: str) -> str:
    """PyTorch's warning for a scaler made for a device type this machine lacks."""
    if device.split(":")[0] == "cuda":  # PyTorch's words, its two spaces included
        name, what = public_path("minigrad.cuda.amp") + ".GradScaler", "CUDA is not available. "
    else:
        name, what = public_path("minigrad.amp.GradScaler"), f"{device} is not available."
    return f"{name} is enabled, but {what} Disabling."


def _available(device: str) -> bool:
    kind = device.split(":")[0]
    if kind == "cpu":
        return True
    try:
        return backend.get_backend(kind).is_available()
    except (RuntimeError, ValueError, KeyError):
        return False
