"""``export``: trace a module with minigrad.fx into an :class:`ExportedProgram`."""

from __future__ import annotations

import contextlib
import inspect
import os
import traceback

from ..fx import GraphModule, Node, TraceError
from ..fx import traceback as fx_traceback
from ..nn.modules.module import Module
from ._guards import make_guards
from ._lift import ExportTracer, Lifter, inline_layers
from ._outputs import flatten_output
from .exported_program import ExportedProgram
from .graph_signature import (
    ConstantArgument,
    ExportGraphSignature,
    InputKind,
    InputSpec,
    OutputKind,
    OutputSpec,
    TensorArgument,
)

_FX_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + "fx"


class Dim:
    """A named dynamic dimension for ``dynamic_shapes`` (``Dim("batch", min=1, max=64)``).

    minigrad's fx graphs never specialize on shapes, so a Dim changes nothing in the graph;
    the exported program's ``module()`` checks it (as PyTorch's guards): a dimension with a Dim
    stays within ``min``/``max``, every other dimension equals the example input's.
    """

    AUTO = "AUTO"
    STATIC = "STATIC"
    DYNAMIC = "DYNAMIC"

    def __init__(self, name: str, *, min: int | None = None, max: int | None = None):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Dim: name must be a Python identifier, got {name!r}")
        if min is not None and max is not None and min > max:
            raise ValueError(f"Dim {name}: min ({min}) must not exceed max ({max})")
        self.__name__, self.min, self.max = name, min, max

    def __repr__(self) -> str:
        return f"Dim({self.__name__!r}, min={self.min}, max={self.max})"


def _check_dynamic_shapes(dynamic_shapes, names: list[str]) -> None:
    if dynamic_shapes is None or isinstance(dynamic_shapes, (tuple, list)):
        return
    if not isinstance(dynamic_shapes, dict):
        raise TypeError(
            f"export: dynamic_shapes must be a dict, tuple, list or None, got "
            f"{type(dynamic_shapes).__name__}"
        )
    unknown = sorted(set(dynamic_shapes) - set(names))
    if unknown:
        raise ValueError(
            f"export: dynamic_shapes names {unknown}, which are not inputs of forward "
            f"(inputs: {names})"
        )


def _where(exc: BaseException) -> str:
    """``file:line in function: code`` of the user frame that raised (outside minigrad.fx)."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_FX_DIR)
    ]
    if not frames:
        return "an unknown location"
    f = frames[-1]
    return f"{f.filename}:{f.lineno} in {f.name}: {f.line}"


def _specialized(mod: Module, args: tuple, kwargs: dict) -> tuple[dict, set[str]]:
    """forward's non-tensor inputs, which PyTorch's export specializes: those given (numbers,
    flags, strings, None) and the defaults of those not given, and the names given."""
    bound = inspect.signature(mod.forward).bind(*args, **kwargs)
    given = set(bound.arguments)
    bound.apply_defaults()
    constant = (type(None), bool, int, float, str)  # (*args and **kwargs bind a tuple, a dict)
    fixed = {name: v for name, v in bound.arguments.items() if isinstance(v, constant)}
    return fixed, given


def _trace(mod: Module, constants: dict, args: tuple, kwargs: dict):
    fixed, given = _specialized(mod, args, kwargs)
    try:
        return ExportTracer(constants, given).trace(mod, concrete_args=fixed)
    except TraceError as exc:
        if type(mod).__module__.startswith("minigrad.nn."):
            raise NotImplementedError(
                f"export: minigrad's graphs call minigrad.nn layers as units, and cannot trace "
                f"through the forward of the layer {type(mod).__name__} itself; export a Module "
                f"that holds it (self.layer = ...; forward returns self.layer(...))"
            ) from exc
        raise TraceError(
            f"export: data-dependent control flow at {_where(exc)} ({exc}). A branch or loop "
            f"on a tensor's value cannot be captured in a graph; rewrite it with tensor "
            f"operations (minigrad.where) or move it out of forward."
        ) from exc


def _leaves(value) -> list:
    """The leaves of an output nest in PyTorch's pytree order (dict values in key order)."""
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _signature(lifter: Lifter, graph, examples: dict) -> ExportGraphSignature:
    """The lifted inputs, then the user inputs and outputs of the lifted ``graph``;
    ``examples`` maps forward's parameter names to the example inputs (non-tensor ones are
    constant inputs, as PyTorch's specialization makes them)."""
    specs = list(lifter.specs)
    lifted = {s.arg.name for s in specs}
    for node in graph.find_nodes(op="placeholder"):
        if node.name in lifted:
            continue
        value = examples.get(node.target.lstrip("*"))
        constant = value is None or isinstance(value, (bool, int, float, str))
        arg = ConstantArgument(node.name, value) if constant else TensorArgument(node.name)
        specs.append(InputSpec(InputKind.USER_INPUT, arg, None))
    return ExportGraphSignature(specs, output_specs(graph))


def output_specs(graph) -> list[OutputSpec]:
    """USER_OUTPUT specs for the leaves of ``graph``'s output."""
    return [
        OutputSpec(
            OutputKind.USER_OUTPUT,
            TensorArgument(v.name) if isinstance(v, Node) else ConstantArgument(str(v), v),
        )
        for v in _leaves(graph.find_nodes(op="output")[0].args[0])
    ]


def _check_run(ep: ExportedProgram, args: tuple, kwargs: dict) -> None:
    """Run the program once on the example inputs, to raise at export time (the random
    generator is left as it was, as PyTorch's export leaves it)."""
    import minigrad

    with minigrad.random.fork_rng(devices=[]), minigrad.no_grad():
        ep._unlifted("GraphModule", guards=False)(*args, **kwargs)


@contextlib.contextmanager
def _buffers_kept(mod: Module):
    """Puts the module's buffers (batch-norm statistics) back as they were on exit: tracing and
    the check run leave them unchanged, as PyTorch's export does."""
    import minigrad

    saved = [(b, b.detach().clone()) for _, b in mod.named_buffers()]
    try:
        yield
    finally:
        with minigrad.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)


def lift_program(mod: Module, graph, constants: dict, persistent: dict | None = None):
    """The lifted graph module (returning a flat tuple), its lifter (specs, constants) and the
    spec of the user's output nest, for ``graph`` traced from ``mod``; ``persistent`` (buffer
    key -> bool) overrides what ``mod`` says."""
    inline_layers(mod, graph, constants)
    lifter = Lifter(mod, constants, persistent)
    lifted = lifter.lift(graph)
    out_spec = flatten_output(lifted)
    gm = GraphModule(lifter.holder, lifted, "GraphModule")
    gm.training = mod.training
    return gm, lifter, out_spec


def export(
    mod: Module,
    args: tuple,
    kwargs: dict | None = None,
    *,
    dynamic_shapes=None,
    strict: bool = False,
    preserve_module_call_signature=(),
) -> ExportedProgram:
    """Trace ``mod``'s forward with minigrad.fx into an :class:`ExportedProgram`.

    As PyTorch's, the parameters, buffers and tensor constants become inputs of the graph
    (see :class:`ExportedProgram`). The example ``args``/``kwargs`` are run through the
    program to check it. The graph
    holds no shapes, but the program's ``module()`` checks its inputs as PyTorch's guards do:
    each dimension equals the example's unless ``dynamic_shapes`` gives it a :class:`Dim`
    (then it stays within the Dim's bounds). Both modes trace the same way; ``strict=True``
    also copies :func:`minigrad.fx.traceback.annotate`'s pairs to ``node.meta["custom"]``, as
    PyTorch's strict (Dynamo) export does. A branch on a tensor's value raises :class:`minigrad.fx.TraceError` naming the
    line; ``minigrad.cond`` records both branches.

    Args:
        mod: the Module to export.
        args: example positional inputs (a tuple).
        kwargs: example keyword inputs.
        dynamic_shapes: None, or a dict/tuple of per-input dimension specs.
        strict: whether nodes carry ``fx.traceback.annotate``'s pairs (PyTorch's strict
            export records them, its non-strict one does not).
        preserve_module_call_signature: must be empty (not supported).

    Returns:
        The ExportedProgram.

    Example:
        >>> ep = export(model, (minigrad.randn(2, 4),))
        >>> ep.module()(minigrad.randn(2, 4))
    """
    if not isinstance(mod, Module):
        raise TypeError(f"export: expected a minigrad.nn.Module, got {type(mod).__name__}")
    if not isinstance(args, tuple):
        raise ValueError(
            f"export: args must be a tuple of example inputs, got {type(args).__name__}"
        )
    if kwargs is not None and not isinstance(kwargs, dict):
        raise ValueError(f"export: kwargs must be a dict, got {type(kwargs).__name__}")
    if preserve_module_call_signature:
        raise NotImplementedError("export: preserve_module_call_signature is not supported")
    names = list(inspect.signature(mod.forward).parameters)
    _check_dynamic_shapes(dynamic_shapes, names)
    constants: dict = {}
    with _buffers_kept(mod), fx_traceback.recording(strict):
        gm, lifter, out_spec = lift_program(
            mod, _trace(mod, constants, args, kwargs or {}), constants
        )
        examples = {**dict(zip(names, args)), **(kwargs or {})}
        signature = _signature(lifter, gm.graph, examples)
        state = _parameters_then_buffers(mod)
        ep = ExportedProgram(gm, signature, state, (args, kwargs or {}), dynamic_shapes,
                             lifter.constants)  # fmt: skip
        ep._out_spec = out_spec
        _check_run(ep, args, kwargs or {})
    guards = make_guards(names, args, kwargs or {}, dynamic_shapes)
    ep._input_checks = {"names": names, "positional": len(args), "guards": guards,
                        "keywords": list(kwargs or {})}  # fmt: skip
    return ep


def _parameters_then_buffers(mod) -> dict:
    """The module's state dict in the order of PyTorch's ``ExportedProgram.state_dict`` (and of
    the graph signature): the parameters, then the buffers, each in module order."""
    state = mod.state_dict(keep_vars=True)
    names = [n for n, _ in mod.named_parameters()] + [n for n, _ in mod.named_buffers()]
    ordered = {n: state[n] for n in names if n in state}
    ordered.update((k, v) for k, v in state.items() if k not in ordered)  # extra state last
    return ordered
