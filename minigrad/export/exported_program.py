"""``ExportedProgram``: a traced module with its graph signature and state
(PyTorch's ``torch.export.ExportedProgram``)."""

from __future__ import annotations

from ..fx import GraphModule
from ._guards import with_guards
from .graph_signature import ExportGraphSignature


class ExportedProgram:
    """The result of :func:`minigrad.export.export`.

    ``graph_module`` runs the traced graph. Unlike PyTorch, minigrad does not lift parameters
    and buffers to graph inputs: the graph reads them from ``graph_module`` (``call_module``
    and ``get_attr`` nodes), and ``graph_signature`` still lists them (kinds, names and
    state-dict keys as PyTorch gives them) before the user inputs.

    Example:
        >>> ep = minigrad.export.export(model, (x,))
        >>> print(ep.graph_signature)
        >>> ep.module()(x)
    """

    def __init__(
        self,
        graph_module: GraphModule,
        graph_signature: ExportGraphSignature,
        state_dict: dict,
        example_inputs: tuple | None = None,
        dynamic_shapes=None,
    ):
        self._graph_module = graph_module
        self._graph_signature = graph_signature
        self._state_dict = state_dict
        self.example_inputs = example_inputs
        self.dynamic_shapes = dynamic_shapes
        self._input_checks = None  # {"names", "positional", "guards"}: see _guards.py

    @property
    def graph_module(self) -> GraphModule:
        """The GraphModule that runs the graph."""
        return self._graph_module

    @property
    def graph(self):
        """The fx Graph."""
        return self._graph_module.graph

    @property
    def graph_signature(self) -> ExportGraphSignature:
        """What each input and output of the graph stands for."""
        return self._graph_signature

    @property
    def state_dict(self) -> dict:
        """Parameters and persistent buffers, by their keys in the original module."""
        return self._state_dict

    @property
    def range_constraints(self) -> dict:
        """Always empty: minigrad's graphs carry no shapes, so there are no symbols to bound."""
        return {}

    def module(self, _class_name: str = "GraphModule") -> GraphModule:
        """A callable module running the graph (sharing this program's tensors); it checks
        its inputs' shapes against the example inputs and ``dynamic_shapes`` first."""
        graph = self._graph_module.graph
        if self._input_checks is not None:
            graph = with_guards(graph, self._input_checks)
        return GraphModule(self._graph_module, graph, _class_name)

    def run_decompositions(self, decomp_table=None, decompose_custom_triton_ops=False):
        """Returns this program: minigrad's graph already calls minigrad's own primitive
        functions, methods and layers, so there is no lower operator set to decompose into
        (``decomp_table`` must be None or empty)."""
        if decomp_table:
            raise NotImplementedError(
                "ExportedProgram.run_decompositions: a decomp_table is not supported in minigrad"
            )
        return self

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Unable to call ExportedProgram directly. Use `exported_program.module()` instead."
        )

    def __str__(self) -> str:
        code = self._graph_module.print_readable(print_output=False)
        body = "\n".join("    " + line if line.strip() else "" for line in code.splitlines())
        sig = "\n".join(
            "    " + line if line else "" for line in str(self._graph_signature).splitlines()
        )
        return f"ExportedProgram:\n{body}\n\nGraph signature:\n{sig}\nRange constraints: {{}}\n"

    __repr__ = __str__
