"""What :func:`minigrad.jit.script` returns for a function: a :class:`ScriptFunction` that runs
the Python function (TorchScript would compile the same code; minigrad has no compiler, so the
live code is the faithful behaviour), with what minigrad can honestly give of TorchScript's:
``graph`` and ``code`` from :func:`minigrad.fx.symbolic_trace` (a function branching on tensor
values or looping over an argument has no such trace: NotImplementedError saying so),
``schema`` from the signature (TorchScript's rule: an unannotated argument is a Tensor; the
return type from the annotation, since minigrad infers none), ``name``/``qualified_name``, and
``save``: the symbolic trace written as :func:`minigrad.jit.save` writes a traced function (it
loads as a module whose ``forward`` it is, named ``PlaceholderModule``, as PyTorch's).
"""

from __future__ import annotations

import functools
import inspect
import types
import typing

from .. import _jit_trace
from . import ScriptFunction


class ScriptedFunction(ScriptFunction):
    """A scripted function: calling it calls the Python function."""

    def __init__(self, fn):
        _refuse_mutable_defaults(fn)
        functools.update_wrapper(self, fn)  # __name__, __doc__, __module__, __wrapped__, ...
        self.name = fn.__name__
        self._fn, self._symbolic = fn, None

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def __get__(self, obj, owner=None):  # (a method scripted in a class body binds, as before)
        return self if obj is None else types.MethodType(self, obj)

    def __reduce__(self):
        return self.__qualname__  # pickled by reference, as the function it replaces

    @property
    def qualified_name(self) -> str:
        """``__torch__.`` and the function's module (but ``__main__``) and name, as PyTorch's."""
        module = getattr(self._fn, "__module__", None)
        inside = "" if module in (None, "__main__") else f"{module}."
        return f"__torch__.{inside}{self.name}"

    @property
    def code(self) -> str:
        """The Python code of the function's :func:`minigrad.fx.symbolic_trace`."""
        return self._trace("code").code

    @property
    def graph(self):
        """The minigrad.fx Graph of the function's :func:`minigrad.fx.symbolic_trace`."""
        return self._trace("graph").graph

    @property
    def _recording(self):
        """What :func:`minigrad.jit.save` writes: the symbolic trace."""
        return self._trace("save")

    def _trace(self, what: str):
        """The function's symbolic trace as a recording (built once)."""
        if self._symbolic is None:
            self._symbolic = _symbolic_recording(self._fn, f"{self.name}.{what}")
        return self._symbolic

    @property
    def schema(self) -> FunctionSchema:
        """``name(Type arg, ...) -> Type`` as TorchScript reads the signature."""
        return FunctionSchema.of(self._fn, self.name)


def _refuse_mutable_defaults(fn) -> None:
    """PyTorch's compiler refuses a list, dict or set default (Python shares it between calls)."""
    for p in inspect.signature(fn).parameters.values():
        if isinstance(p.default, (list, dict, set)):
            raise RuntimeError(
                "Mutable default parameters are not supported because Python binds them to the "
                "function and they persist across function calls.\n As a workaround, make the "
                "default None and instantiate the default parameter within the body of the "
                f"function. Found {type(p.default)} on parameter {p.name}"
            )


def _symbolic_recording(fn, name: str):
    from ..fx import symbolic_trace
    from ..fx.proxy import TraceError

    try:
        module = symbolic_trace(fn)
    except (TraceError, TypeError) as error:
        raise NotImplementedError(
            f"{name}: minigrad has no TorchScript compiler; a scripted function's graph, code "
            f"and saved file come from fx.symbolic_trace, which cannot record this function "
            f"({error})"
        ) from error
    nodes = module.graph.nodes
    for node in nodes:  # (the saved records keep no annotations: the code they make has none)
        if node.op in ("placeholder", "output"):
            node.type = None
    constants = {n.target: getattr(module, n.target) for n in nodes if n.op == "get_attr"}
    names = [n.target for n in nodes if n.op == "placeholder"]
    return _jit_trace.Recording(module.graph, constants, names)


class Argument(typing.NamedTuple):
    """One argument (or result) of a :class:`FunctionSchema`: ``type`` as TorchScript spells it
    (``Tensor``, ``float``, ``int[]``, ``Tensor?``), ``default_value`` None when it has none."""

    name: str
    type: str
    default_value: object = None
    has_default: bool = False

    def __str__(self) -> str:
        text = f"{self.type} {self.name}".rstrip()
        return f"{text}={_default(self.default_value)}" if self.has_default else text


class FunctionSchema(typing.NamedTuple):
    """TorchScript's ``FunctionSchema`` of a scripted function: ``str()`` is PyTorch's
    ``f(Tensor x, float y=2.) -> Tensor``."""

    name: str
    overload_name: str
    arguments: list
    returns: list

    @classmethod
    def of(cls, fn, name: str) -> FunctionSchema:
        signature = inspect.signature(fn)
        hints = _hints(fn)
        arguments = []
        for p in signature.parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise NotImplementedError(
                    f"{name}.schema: TorchScript takes no *args or **kwargs (parameter {p.name})"
                )
            has_default = p.default is not p.empty
            kind = _type_name(hints.get(p.name, _TENSOR), name)
            arguments.append(
                Argument(p.name, kind, p.default if has_default else None, has_default)
            )
        if "return" not in hints:
            raise NotImplementedError(
                f"{name}.schema: minigrad has no TorchScript compiler to infer the return type; "
                f"annotate the function's return (-> Tensor)"
            )
        return cls(name, "", arguments, [Argument("", _type_name(hints["return"], name))])

    def __str__(self) -> str:
        args = ", ".join(str(a) for a in self.arguments)
        results = ", ".join(str(r) for r in self.returns)
        if len(self.returns) != 1 or results.startswith("("):  # (a tuple result: its own too)
            results = f"({results})"
        return f"{self.name}({args}) -> {results}"


_TENSOR = object()  # an unannotated argument: TorchScript's Tensor


def _hints(fn) -> dict:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # (an annotation naming what the module cannot resolve: raw ones)
        return dict(getattr(fn, "__annotations__", {}))


_NAMES = {int: "int", float: "float", bool: "bool", str: "str", complex: "complex"}


def _type_name(hint, name: str) -> str:
    """TorchScript's spelling of the annotation ``hint``."""
    from ..tensor import Tensor

    if hint is _TENSOR or (isinstance(hint, type) and issubclass(hint, Tensor)):
        return "Tensor"
    if hint is None or hint is type(None):
        return "NoneType"
    if hint in _NAMES:
        return _NAMES[hint]
    if getattr(hint, "__name__", None) == "Tensor":  # (torch.Tensor in a program's annotations)
        return "Tensor"
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        return _type_name(next(a for a in args if a is not type(None)), name) + "?"
    if origin is list and len(args) == 1:
        return _type_name(args[0], name) + "[]"
    if origin is tuple and args and args[-1] is not Ellipsis:
        return "(" + ", ".join(_type_name(a, name) for a in args) + ")"
    if origin is dict and len(args) == 2:
        return f"Dict({_type_name(args[0], name)}, {_type_name(args[1], name)})"
    raise NotImplementedError(f"{name}.schema: minigrad does not spell the annotation {hint!r}")


def _default(value) -> str:
    """A default as PyTorch's schema prints it (``2.``, ``3``, ``True``, ``None``, ``"a"``)."""
    if isinstance(value, float):  # (C++'s 17 significant digits, a point always)
        text = f"{value:.17g}"
        return text if any(c in text for c in ".en") else text + "."
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_default(v) for v in value) + "]"
    return repr(value)
