"""Input shape guards of an exported program, as ``torch.export`` checks them when the program's
``module()`` is called: every dimension of a tensor input equals the example's, except those
``dynamic_shapes`` marks dynamic, which stay within their :class:`Dim`'s bounds."""

from __future__ import annotations

import json

from ..fx import Graph
from ..tensor import Tensor


def _dim_specs(spec, ndim: int) -> dict:
    """``{dim: Dim-or-marker}`` from one input's spec (a dict, a tuple/list per dim, or None)."""
    if spec is None:
        return {}
    if isinstance(spec, dict):
        return {d % ndim if ndim else d: v for d, v in spec.items() if v is not None}
    if isinstance(spec, (tuple, list)):
        return {d: v for d, v in enumerate(spec) if v is not None}
    raise TypeError(
        f"export: a dynamic_shapes entry must be a dict, tuple, list or None, got "
        f"{type(spec).__name__}"
    )


def make_guards(names: list[str], args: tuple, kwargs: dict, dynamic_shapes) -> list:
    """JSON-able guards ``[name, dim, op, value]`` (op ``==``, ``>=`` or ``<=``; ``value`` a
    size, or ``[other_name, other_dim]`` where one Dim marks dims of two inputs) for the tensor
    inputs of an export with example ``args``/``kwargs``."""
    inputs = dict(zip(names, args))
    inputs.update(kwargs)
    if isinstance(dynamic_shapes, (tuple, list)):
        dynamic_shapes = dict(zip(names, dynamic_shapes))
    dynamic_shapes = dynamic_shapes or {}
    guards, first_use = [], {}
    for name, value in inputs.items():
        if value is None or isinstance(value, (bool, int, float, str)):
            guards.append([name, None, "==", value])  # specialized: the value must repeat
            continue
        if not isinstance(value, Tensor):
            continue
        specs = _dim_specs(dynamic_shapes.get(name), value.dim())
        for d, size in enumerate(value.shape):
            spec = specs.get(d)
            if spec is None:
                guards.append([name, d, "==", int(size)])
                continue
            if not isinstance(spec, str):  # a Dim used again: the sizes must be equal
                if id(spec) in first_use:
                    guards.append([name, d, "==", first_use[id(spec)]])
                    continue
                first_use[id(spec)] = [name, d]
            low, high = getattr(spec, "min", None), getattr(spec, "max", None)
            if low is not None:
                guards.append([name, d, ">=", int(low)])
            if high is not None:
                guards.append([name, d, "<=", int(high)])
    return guards


_HOLDS = {"==": int.__eq__, ">=": int.__ge__, "<=": int.__le__}


def _check_count(n_positional: int, args) -> None:
    """PyTorch's ``ValueError`` when a call has other positional inputs than the export."""
    if len(args) != n_positional:
        raise ValueError(
            f"Trying to flatten user inputs with exported input tree spec: the program was "
            f"exported with {n_positional} positional inputs but got {len(args)}. Please check "
            f"that the inputs have the same number and type of args and kwargs as the ones you "
            f"used when tracing."
        )


def check_call(n_positional: int, keywords: list | None, module, args, kwargs) -> None:
    """Forward pre-hook of ``ExportedProgram.module()`` (``functools.partial``-bound, so the
    module still pickles): PyTorch flattens the call against the exported input structure
    before running anything, so other keywords, or another number of positional inputs, raise
    its ``ValueError`` (keywords checked first, as it does), not Python's ``TypeError``."""
    if keywords is not None and set(kwargs) != set(keywords):
        raise ValueError(
            f"Ran into a kwarg keyword mismatch: Got the following keywords {list(kwargs)} but "
            f"expected {list(keywords)}"
        )
    _check_count(n_positional, args)


def check_guards(names: list[str], n_positional: int, guards: list, args, kwargs) -> None:
    """Raise as PyTorch's exported module does when ``args``/``kwargs`` break a guard."""
    _check_count(n_positional, args)  # (in-graph checks get every input, in order)
    inputs = dict(zip(names, args))
    inputs.update(kwargs)
    for name, d, op, value in guards:
        if d is None:  # a constant input
            if name in inputs and inputs[name] != value:
                raise AssertionError(f"Guard failed: {name} == {value!r}")
            continue
        tensor = inputs.get(name)
        if not isinstance(tensor, Tensor):
            continue
        if d >= tensor.dim():
            raise RuntimeError(
                f"Expected input {name} to have at least {d + 1} dimensions (as the example "
                f"input), but got {tensor.dim()}"
            )
        bound, shown = value, value
        if isinstance(value, list):  # the size of another input's dim
            other = inputs.get(value[0])
            if not isinstance(other, Tensor) or value[1] >= other.dim():
                continue
            bound, shown = int(other.shape[value[1]]), f"{value[0]}.size()[{value[1]}]"
        if not _HOLDS[op](int(tensor.shape[d]), bound):
            raise AssertionError(f"Guard failed: {name}.size()[{d}] {op} {shown}")


def _guards_fn(spec: str, *values) -> None:
    """The first call of an exported program's ``module()`` graph (PyTorch names its node
    ``_guards_fn`` too): ``spec`` is the JSON of the input names and guards, ``values`` the
    inputs in placeholder order. In the graph, not a hook, so copies and pickles keep it."""
    checks = json.loads(spec)
    check_guards(checks["names"], len(values), checks["guards"], values, {})


def with_guards(graph: Graph, checks: dict) -> Graph:
    """A copy of ``graph`` whose first node after the placeholders checks the inputs."""
    new, env = Graph(tracer_cls=getattr(graph, "_tracer_cls", None)), {}
    placeholders = graph.find_nodes(op="placeholder")
    spec = json.dumps({"names": [p.target.lstrip("*") for p in placeholders],
                       "guards": checks["guards"]})  # fmt: skip
    for node in graph.nodes:
        env[node] = new.node_copy(node, lambda n: env[n])
        if node is placeholders[-1]:
            new.call_function(_guards_fn, (spec, *(env[p] for p in placeholders)))
    if not placeholders:
        return graph
    return new
