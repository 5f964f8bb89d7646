"""``to_dot``: the Graphviz DOT source of the graph behind some tensors (no dependencies)."""

from __future__ import annotations

import math

from .. import autograd
from ..autograd.graph import SavedTensor
from ..tensor import Tensor
from . import style
from .graph import Graph, Item, collect, node_name, parameter_names, tensor_meta
from .modules import ModuleTrace, assign_modules, collapse, parent_of


def to_dot(
    *outputs: Tensor,
    params=None,
    show_shapes: bool = True,
    show_saved: bool = False,
    grad_heat: bool = False,
    module: ModuleTrace | None = None,
    depth: int | None = None,
    rankdir: str = "TB",
) -> str:
    """The DOT source of the graph that produced ``outputs``, drawn from inputs to outputs.

    One box per op (``MatMul``, ``Add``...), per leaf tensor that requires grad and per output.
    After ``backward()`` each leaf shows the norm of its ``.grad``.

    Args:
        *outputs: the tensors to draw (a tuple or list of tensors also works).
        params: names for tensors: a ``{name: tensor}`` dict or anything with
            ``named_parameters()`` (a Module). Leaves without a name show as ``tensor``; a named
            output shows its name.
        show_shapes: show shape and dtype (and device other than cpu) of every box.
        show_saved: show what each op saved for backward (shape and dtype), or that it was freed.
        grad_heat: colour leaves by log10 of their gradient norm, with a legend.
        module: a :func:`trace_modules` record: draws each op inside a box for the module
            whose forward made it, nested as the modules are.
        depth: with ``module``, draw each module deeper than ``depth`` (the model is depth 0,
            its children 1...) as a single box standing for everything inside it.
        rankdir: Graphviz layout direction, ``"TB"`` (top to bottom) or ``"LR"``.

    Returns:
        The DOT source, the same for the same graph on every run.

    Example:
        >>> a = minigrad.randn(3, requires_grad=True)
        >>> b = minigrad.randn(3, requires_grad=True)
        >>> dot = minigrad.viz.to_dot((a * b).sum(), params={"a": a, "b": b})
        >>> print(dot.splitlines()[0])
        digraph minigrad {
    """
    body = dot_body(outputs, params, show_shapes, show_saved, grad_heat, module, depth, rankdir)
    return "digraph minigrad {\n" + "".join(body) + "}\n"


def dot_body(outputs, params=None, show_shapes=True, show_saved=False, grad_heat=False,
             module=None, depth=None, rankdir="TB") -> list:  # fmt: skip
    """The lines between ``digraph minigrad {`` and ``}`` (each ends with a newline)."""
    outputs = _check_outputs(outputs)
    _check_options(module, depth, rankdir)
    if params is None and module is not None and hasattr(module.model, "named_parameters"):
        params = module.model
    names = parameter_names(params)
    graph = collect(outputs, names)
    if module is not None:
        assign_modules(graph, module)
        if depth is not None:
            graph = collapse(graph, depth)
    modules = module.modules if module is not None else {}
    writer = _Writer(names, modules, show_shapes, show_saved, grad_heat, graph)
    lines = [style.GRAPH.format(rankdir=rankdir), style.NODE, style.EDGE]
    lines += writer.clusters(graph)
    lines += writer.edges(graph)
    lines += writer.legend()
    return [f"\t{line}\n" for line in lines]


def _check_outputs(outputs) -> tuple:
    if len(outputs) == 1 and isinstance(outputs[0], (tuple, list)):
        outputs = tuple(outputs[0])
    if not outputs:
        raise ValueError("to_dot needs at least one tensor to draw, got none")
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"to_dot: output {i} is a {type(out).__name__}, expected a Tensor")
    return tuple(outputs)


def _check_options(module, depth, rankdir) -> None:
    if module is not None and not isinstance(module, ModuleTrace):
        raise TypeError(
            f"module must be the record of minigrad.viz.trace_modules(model), got "
            f"{type(module).__name__}; run the forward inside `with trace_modules(model) as "
            f"trace:` and pass module=trace"
        )
    if depth is not None:
        if module is None:
            raise ValueError("depth= needs module= (the record of minigrad.viz.trace_modules)")
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
            raise ValueError(f"depth must be an int >= 0 or None, got {depth!r}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"rankdir must be one of 'TB', 'LR', 'BT', 'RL', got {rankdir!r}")


class _Writer:
    """Turns items into DOT statements; holds the options and the heat scale."""

    def __init__(self, names, modules, show_shapes, show_saved, grad_heat, graph: Graph):
        self.names, self.modules = names, modules
        self.show_shapes, self.show_saved = show_shapes, show_saved
        self.grad_heat = grad_heat
        self.norms = {item.id: _item_grad_norm(item) for item in graph.items}
        self.heat = style.HeatScale(self.norms.values()) if grad_heat else None
        self.saved_count = 0

    # -- layout of module boxes --------------------------------------------------------------
    def clusters(self, graph: Graph) -> list:
        """Items grouped into nested ``subgraph cluster_*`` blocks, then the free items."""
        by_module: dict = {}
        for item in graph.items:
            by_module.setdefault(item.module, []).append(item)
        modules = self.modules
        order = _cluster_order(by_module, modules)
        lines, open_names = [], []
        for index, name in enumerate(order):
            while open_names and not _inside(name, open_names[-1]):
                open_names.pop()
                lines.append("\t" * len(open_names) + "}")
            pad = "\t" * len(open_names)
            lines.append(f"{pad}subgraph cluster_{index} {{")
            lines.append(f"{pad}\t{self._cluster_attrs(name, modules, len(open_names))}")
            open_names.append(name)
            lines += [pad + "\t" + s for item in by_module.get(name, ()) for s in self.node(item)]
        while open_names:
            open_names.pop()
            lines.append("\t" * len(open_names) + "}")
        lines += [s for item in by_module.get(None, ()) for s in self.node(item)]
        return lines

    @staticmethod
    def _cluster_attrs(name: str, modules: dict, level: int) -> str:
        title = name.rsplit(".", 1)[-1] if name else modules.get("", "model")
        kind = modules.get(name, "") if name else ""
        sub = f' <FONT COLOR="{style.MUTED}">{style.escape(kind)}</FONT>' if kind else ""
        fill = style.CLUSTER_FILLS[min(level, len(style.CLUSTER_FILLS) - 1)]
        return (
            f'graph [label=<<B>{style.escape(title)}</B>{sub}> labeljust=l style="rounded,filled" '
            f'color="#94a3b8" fillcolor="{fill}" fontsize=10]'
        )

    # -- boxes -------------------------------------------------------------------------------
    def node(self, item: Item) -> list:
        """The statements of one box (and of the saved tensors of an op)."""
        title, lines, warn = self._text(item)
        fill, border, extra = style.KINDS["output" if item.is_output else item.kind]
        norm = self.norms.get(item.id)
        muted, font = style.MUTED, ""
        if self.heat is not None and item.kind in ("leaf", "module") and norm is not None:
            fill = self.heat.color(norm)
            font, muted = style.text_color(fill)
            font = f' fontcolor="{font}"'
        label = style.html_label(title, lines, muted, warn)
        attrs = f'label={label} fillcolor="{fill}" color="{border}"{font}'
        out = [f"{item.id} [{attrs}{' ' + extra if extra else ''}]"]
        if item.kind == "op" and self.show_saved:
            out += self._saved(item)
        return out

    def _text(self, item: Item) -> tuple:
        lines, warn = [], []
        if item.kind == "op":
            title = node_name(item.node)
            if self.show_shapes:
                lines += _meta_lines(item.outputs)
            if self.show_saved and getattr(item.node, "_released", False):
                lines.append("saved: freed")
        elif item.kind == "module":
            title = item.name
            ops = sum(m.kind == "op" for m in item.members)
            params = sum(m.kind == "leaf" for m in item.members)
            lines.append(f"{self.modules.get(item.name, 'Module')}: {ops} ops, {params} params")
        else:
            tensor = item.tensor
            title = item.name or "tensor"
            if self.show_shapes:
                lines += _meta_lines({0: tensor_meta(tensor)})
            if item.is_output and tensor.grad_fn is None and not tensor.requires_grad:
                lines.append("no graph (requires_grad=False)")
        norm = self.norms.get(item.id)
        if norm is not None:
            (warn if not math.isfinite(norm) else lines).append(f"grad norm {norm:.2e}")
        elif self.grad_heat and item.kind == "leaf" and item.tensor.requires_grad:
            lines.append("no grad")
        return title, lines, warn

    def _saved(self, item: Item) -> list:
        out = []
        for saved in getattr(item.node, "_saved", ()) or ():
            text = _saved_text(saved, self.names)
            if text is None:
                continue
            title, lines, warn = text
            sid = f"s{self.saved_count}"
            self.saved_count += 1
            fill, border, extra = style.KINDS["saved"]
            label = style.html_label(title, lines if self.show_shapes else (), warn_lines=warn)
            out.append(f'{sid} [label={label} fillcolor="{fill}" color="{border}" {extra}]')
            out.append(f"{sid} -> {item.id} [{style.SAVED_EDGE}]")
        return out

    # -- edges and legend --------------------------------------------------------------------
    @staticmethod
    def edges(graph: Graph) -> list:
        return [
            f"{a.id} -> {b.id}" + (f' [label="{label}" fontsize=8]' if label else "")
            for a, b, label in graph.edges
        ]

    def legend(self) -> list:
        if self.heat is None:
            return []
        if self.heat.empty and not (self.heat.has_zero or self.heat.has_bad):
            note = style.html_label("grad_heat", ["no .grad yet: call backward() first"])
            return [f'legend [label={note} shape=note style="filled" fillcolor="#fffbeb"]']
        return [f"legend [label={self.heat.legend()} shape=plaintext style=solid]"]


def _cluster_order(by_module: dict, modules: dict) -> list:
    """Every module box to draw (those holding items and their ancestors), parents first."""
    needed = set()
    for name in by_module:
        while name is not None and name not in needed:
            needed.add(name)
            name = parent_of(name)
    position = {name: i for i, name in enumerate(modules)}

    def key(name: str) -> tuple:
        parts = name.split(".") if name else []
        prefixes = [".".join(parts[: k + 1]) for k in range(len(parts))]
        return tuple((position.get(p, len(position)), p) for p in prefixes)

    return sorted(needed, key=key)


def _inside(name: str, outer: str) -> bool:
    return outer == "" or name.startswith(outer + ".")


def _meta_lines(outputs: dict) -> list:
    """``(2, 3) float32`` per output (numbered when an op has several); device unless cpu."""

    def text(meta) -> str:
        shape, dtype, device = meta
        where = "" if getattr(device, "type", "cpu") == "cpu" else f" {device}"
        return f"{tuple(shape)} {dtype}{where}"

    if len(outputs) == 1:
        return [text(next(iter(outputs.values())))]
    return [f"{nr}: {text(outputs[nr])}" for nr in sorted(outputs)]


def _saved_text(saved, names: dict):
    """``(title, lines, warnings)`` describing one saved entry, or None for nothing to show."""
    if saved is None:
        return None
    if not isinstance(saved, SavedTensor):
        text = repr(saved)
        return "saved value", [text if len(text) <= 24 else text[:21] + "..."], []
    if saved.tensor is not None:
        meta = tensor_meta(saved.tensor)
        name = names.get(id(saved.tensor))
        title = f"saved {name}" if name else "saved"
    else:
        meta = (saved.array.shape, saved.array.dtype.name, saved.device)
        title = "saved output"
    warn = []
    if saved.counter.value != saved.version:
        warn.append(f"changed in place (v{saved.counter.value}, saved at v{saved.version})")
    return title, _meta_lines({0: meta}), warn


def _item_grad_norm(item: Item):
    """The gradient norm a box shows: a tensor's ``.grad``, or all grads inside a module box."""
    if item.kind == "op":
        return None
    if item.kind == "module":
        norms = [_grad_norm(m.tensor) for m in item.members if m.kind == "leaf"]
        norms = [n for n in norms if n is not None]
        return math.sqrt(sum(n * n for n in norms)) if norms else None
    return _grad_norm(item.tensor)


def _grad_norm(tensor):
    grad = getattr(tensor, "grad", None)
    if grad is None:
        return None
    with autograd.no_grad():
        return float(grad.detach().double().norm())
