"""``summary(model, x)``: a table of a model's layers, output shapes and parameter counts, found by
running one forward pass with forward hooks."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from .. import dtypes
from ..autograd.grad_mode import no_grad
from ..creation import randn
from ..tensor import Tensor


@dataclass
class SummaryRow:
    """One call of one module during the traced forward pass."""

    name: str
    type: str
    depth: int
    output_shape: object = None
    params: int = 0
    trainable: int = 0


@dataclass
class ModelSummary:
    """What :func:`summary` found; ``str()`` gives the printed table."""

    rows: list = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0

    @property
    def frozen_params(self) -> int:
        return self.total_params - self.trainable_params

    def __str__(self) -> str:
        table = [("Layer (type)", "Output Shape", "Param #", "Trainable")]
        for row in self.rows:
            local = row.name.rpartition(".")[2]  # indentation shows the rest of the path
            label = row.type if not row.name else f"{local} ({row.type})"
            table.append(
                (
                    "  " * row.depth + label,
                    _shape_text(row.output_shape),
                    f"{row.params:,}" if row.params else "--",
                    f"{row.trainable:,}" if row.params else "--",
                )
            )
        widths = [max(len(r[i]) for r in table) + 3 for i in range(4)]
        width = sum(widths)
        lines = ["=" * width, _format_row(table[0], widths), "=" * width]
        lines += [_format_row(r, widths) for r in table[1:]]
        lines += [
            "=" * width,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable (frozen) params: {self.frozen_params:,}",
            "=" * width,
        ]
        return "\n".join(lines)

    __repr__ = __str__


def _format_row(cells, widths) -> str:
    return (
        cells[0].ljust(widths[0]) + "".join(c.rjust(w) for c, w in zip(cells[1:], widths[1:]))
    ).rstrip()


def _shape_text(shape) -> str:
    return "--" if shape is None else str(shape)


def _shapes(output):
    if isinstance(output, Tensor):
        return list(output.shape)
    if isinstance(output, (tuple, list)):
        shapes = [_shapes(o) for o in output]
        return shapes if any(s is not None for s in shapes) else None
    return None


def summary(model, *inputs, input_size=None, dtype=None, device=None, file=None) -> ModelSummary:
    """Run ``model`` once and print its layers, output shapes and parameter counts.

    Each module call is one row (nested modules indented), counting the parameters the module
    owns directly, each shared parameter once. Totals come from ``model.parameters()``. The pass
    runs under ``no_grad`` and in eval mode (so batch norm statistics do not change); training
    flags are restored afterwards.

    In a REPL or Jupyter the table is not printed: the returned summary is shown there as the
    result (its ``repr`` is the table), so printing as well would show it twice.

    Args:
        model: the module.
        *inputs: example inputs, passed to ``model(*inputs)``; or, as torchinfo takes it, the
            ``input_size`` given positionally (``summary(model, (1, 64))``).
        input_size: instead of inputs, a shape (or a list of shapes) of random inputs to make.
        dtype: dtype of the random inputs (default float32).
        device: device of the random inputs (default: the device of the first parameter).
        file: where to print (default stdout, except in a REPL or Jupyter); ``False`` prints
            nothing.

    Returns:
        A :class:`ModelSummary` with ``rows``, ``total_params``, ``trainable_params``,
        ``frozen_params``.

    Example:
        >>> nn.summary(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), input_size=(2, 4))
    """
    if len(inputs) == 1 and _is_size(inputs[0]) and input_size is None:
        input_size, inputs = inputs[0], ()  # torchinfo's summary(model, (1, 64))
    if not inputs:
        inputs = _random_inputs(model, input_size, dtype, device)
    result = ModelSummary()
    owned, open_rows = set(), {}
    handles, modes = [], {m: m.training for m in model.modules()}
    try:
        for name, module in model.named_modules():
            handles.append(
                module.register_forward_pre_hook(_pre_hook(result, name, owned, open_rows))
            )
            handles.append(module.register_forward_hook(_post_hook(open_rows)))
        model.eval()
        with no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes.items():
            module.training = mode
    params = list(model.parameters())
    result.total_params = sum(p.numel() for p in params)
    result.trainable_params = sum(p.numel() for p in params if p.requires_grad)
    if file is not False and (file is not None or not _interactive()):
        print(result, file=file or sys.stdout)
    return result


def _is_size(value) -> bool:
    """A shape, or a list of shapes: ints in (nested) tuples/lists, no tensors."""
    if isinstance(value, (tuple, list)) and value:
        return all((isinstance(v, int) and not isinstance(v, bool)) or _is_size(v) for v in value)
    return False


def _interactive() -> bool:
    """True in a REPL or IPython/Jupyter, where the returned summary is echoed."""
    if hasattr(sys, "ps1") or sys.flags.interactive:
        return True
    ipython = sys.modules.get("IPython")
    return ipython is not None and getattr(ipython, "get_ipython", lambda: None)() is not None


def _random_inputs(model, input_size, dtype, device) -> tuple:
    if input_size is None:
        raise ValueError("summary needs example inputs or input_size=(...) to run the model")
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else "cpu"
    sizes = input_size if isinstance(input_size[0], (tuple, list)) else [input_size]
    return tuple(randn(*s, dtype=dtype or dtypes.float32, device=device) for s in sizes)


def _pre_hook(result: ModelSummary, name: str, owned: set, open_rows: dict):
    def hook(module, args):
        params = [p for p in module._parameters.values() if p is not None and id(p) not in owned]
        owned.update(id(p) for p in params)
        row = SummaryRow(
            name=name,
            type=module._get_name(),
            depth=name.count(".") + 1 if name else 0,
            params=sum(p.numel() for p in params),
            trainable=sum(p.numel() for p in params if p.requires_grad),
        )
        result.rows.append(row)
        open_rows.setdefault(id(module), []).append(row)

    return hook


def _post_hook(open_rows: dict):
    def hook(module, args, output):
        rows = open_rows.get(id(module))
        if rows:  # the innermost open call of this module (calls may nest recursively)
            rows.pop().output_shape = _shapes(output)

    return hook
