"""``torch._C.ScriptMethod``: what a scripted module's ``forward`` is (``script(m).forward``).

It calls the module's Python ``forward`` (minigrad has no TorchScript compiler; the live
code is what TorchScript would compile) and has TorchScript's ``name``, ``owner``,
``schema`` (from the signature, as :class:`~minigrad.jit._script_function.FunctionSchema`),
``code`` and ``graph`` (the owner's :func:`minigrad.fx.symbolic_trace`). Libraries that
record calls (torchview) test ``isinstance(func, ScriptMethod)`` and read ``func.name``.
"""

from __future__ import annotations


class ScriptMethod:
    """A method of a scripted module, bound to it; made by the module, not by hand."""

    __module__ = "minigrad._C"  # (as torch._C.ScriptMethod, named by where it is reached)
    __slots__ = ("_owner", "_function", "name")

    def __init__(self, *args, **kwargs):
        raise TypeError("minigrad._C.ScriptMethod: No constructor defined!")

    @classmethod
    def _bind(cls, owner, function, name: str) -> ScriptMethod:
        method = object.__new__(cls)
        method._owner, method._function, method.name = owner, function, name
        return method

    def __call__(self, *args, **kwargs):
        return self._function(self._owner, *args, **kwargs)

    @property
    def owner(self):
        """The scripted module the method belongs to."""
        return self._owner

    raw_owner = owner

    @property
    def schema(self):
        """``forward(__torch__.module.M self, Tensor x) -> Tensor``, read from the signature as
        TorchScript reads it (an unannotated argument is a Tensor; the return needs its
        annotation: minigrad infers none)."""
        from ._script_function import Argument, FunctionSchema

        schema = FunctionSchema.of(self._function, self.name)
        cls = getattr(type(self._owner), "_saved_as", type(self._owner))
        inside = "" if cls.__module__ == "__main__" else f"{cls.__module__}."
        owner_type = f"__torch__.{inside}{cls.__qualname__}"
        arguments = [Argument("self", owner_type), *schema.arguments[1:]]
        return schema._replace(arguments=arguments)

    def _traced(self, what: str):
        if self.name != "forward":
            raise NotImplementedError(
                f"{type(self._owner).__name__}.{self.name}.{what}: minigrad has no TorchScript "
                "compiler; only forward has a graph and code (from fx.symbolic_trace)"
            )
        return getattr(self._owner, what)

    @property
    def code(self) -> str:
        """The Python code of ``forward``'s fx trace (see ``ScriptModule.code``)."""
        return self._traced("code")

    @property
    def graph(self):
        """The minigrad.fx Graph of ``forward``'s trace (see ``ScriptModule.graph``)."""
        return self._traced("graph")

    inlined_graph = graph

    def __eq__(self, other) -> bool:
        if not isinstance(other, ScriptMethod):
            return NotImplemented
        return self._owner is other._owner and self.name == other.name

    def __hash__(self) -> int:
        return hash((id(self._owner), self.name))

    def __repr__(self) -> str:
        return f"<minigrad._C.ScriptMethod {self.name} of {type(self._owner).__name__}>"


class ScriptMethodDescriptor:
    """Class attribute of a scripted module's class: ``module.<name>`` is a
    :class:`ScriptMethod` of the class's own function (an attribute the instance sets wins)."""

    def __init__(self, function, name: str):
        self._function, self._name = function, name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self._function
        return ScriptMethod._bind(obj, self._function, self._name)
