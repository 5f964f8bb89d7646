"""``ExportedProgram``: a traced module with its graph signature and state
(PyTorch's ``torch.export.ExportedProgram``)."""

from __future__ import annotations

from functools import partial

from ..fx import Graph, GraphModule
from ._functionalize import functionalize
from ._guards import check_call, with_guards
from ._lift import attr
from ._outputs import unflatten_output
from .graph_signature import ExportGraphSignature, InputKind, OutputKind


class ExportedProgram:
    """The result of :func:`minigrad.export.export`.

    As PyTorch's, the graph takes the state as inputs: placeholders for the parameters
    (``p_<fqn>``), the buffers (``b_<fqn>``) and the tensor constants (``c_<fqn>``) come before
    the user inputs, ``graph_signature`` says what each stands for, and the tensors are in
    ``state_dict`` (parameters, persistent buffers) and ``constants`` (tensor constants,
    non-persistent buffers); ``graph_module`` holds no state (only the layers the graph calls
    whole: those without tensors, and those called through ``functional_call``, whose own
    tensors the lifted ones replace). ``module()`` binds the state back.

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
        constants: dict | None = None,
    ):
        self._graph_module = graph_module
        self._graph_signature = graph_signature
        self._state_dict = state_dict
        self._constants = {} if constants is None else constants
        self.example_inputs = example_inputs
        self.dynamic_shapes = dynamic_shapes
        self._input_checks = None  # {"names", "positional", "guards", "keywords"}: see _guards.py
        self._out_spec = None  # the user's output nest over the flat outputs: see _outputs.py

    @property
    def graph_module(self) -> GraphModule:
        """The GraphModule that runs the graph: ``graph_module(*lifted tensors, *user inputs)``,
        the lifted tensors in ``graph_signature.input_specs`` order."""
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
    def constants(self) -> dict:
        """Tensor constants and non-persistent buffers, by their attribute paths."""
        return self._constants

    @property
    def range_constraints(self) -> dict:
        """Always empty: minigrad's graphs carry no shapes, so there are no symbols to bound."""
        return {}

    def module(self, _class_name: str = "GraphModule") -> GraphModule:
        """A callable module running the graph with the state bound back (``get_attr`` of
        ``fc.weight`` where the graph had the input ``p_fc_weight``; shared with this program,
        so training it trains them); it checks its inputs' shapes against the example inputs
        and ``dynamic_shapes`` first, and copies mutated buffers back after."""
        return self._unlifted(_class_name, guards=True)

    def _unlifted(self, class_name: str, guards: bool) -> GraphModule:
        sig, new, env, root = self._graph_signature, Graph(), {}, {}
        lifted = {s.arg.name: s for s in sig.input_specs if s.kind is not InputKind.USER_INPUT}
        placeholders = self.graph.find_nodes(op="placeholder")
        for node in placeholders:
            if node.name not in lifted:
                env[node] = new.node_copy(node)
        by_target = {}
        for node in placeholders:
            spec = lifted.get(node.name)
            if spec is not None:
                env[node] = by_target[spec.target] = new.get_attr(spec.target)
                root[spec.target] = self._tensor(spec.target)
        for node in self.graph.nodes:
            if node.op == "output":
                new.output(self._bind_mutations(new, node, env, by_target), node.type)
            elif node.op != "placeholder":
                env[node] = new.node_copy(node, lambda n: env[n])
                if node.op in ("get_attr", "call_module"):
                    root[node.target] = attr(self._graph_module, node.target)
        if guards and self._input_checks is not None:
            new = with_guards(new, self._input_checks)
        module = GraphModule(root, new, class_name)
        module.training = self._graph_module.training
        self._place_state(module)
        if guards and self._input_checks is not None:  # the call's structure, before the graph
            checks = self._input_checks
            hook = partial(check_call, checks["positional"], checks.get("keywords"))
            module.register_forward_pre_hook(hook, with_kwargs=True)
        return module

    def _tensor(self, target: str):
        return self._state_dict[target] if target in self._state_dict else self._constants[target]

    def _bind_mutations(self, new: Graph, output, env: dict, by_target: dict):
        """The user outputs (in the user's nest); before them, ``buffer.copy_(value)`` for each
        BUFFER_MUTATION output (the first outputs)."""
        value = _map(output.args[0], env)
        mutated = [s.target for s in self._graph_signature.output_specs
                   if s.kind is OutputKind.BUFFER_MUTATION]  # fmt: skip
        for target, v in zip(mutated, value):
            new.call_method("copy_", (by_target[target], v))
        if self._out_spec is not None:
            return unflatten_output(self._out_spec, list(value[len(mutated) :]))
        return value[len(mutated)] if mutated else value  # (a nest kept as the user's)

    def _place_state(self, module: GraphModule) -> None:
        """Each lifted tensor at its path (also inside a layer that the graph calls whole,
        whose own tensors it replaces): non-persistent buffers out of the state dict,
        constants as plain attributes."""
        for spec in self._graph_signature.input_specs:
            if spec.kind is InputKind.USER_INPUT:
                continue
            prefix, _, field = spec.target.rpartition(".")
            owner, value = module.get_submodule(prefix), self._tensor(spec.target)
            for store in (owner._parameters, owner._buffers, owner.__dict__):
                store.pop(field, None)
            if spec.kind is InputKind.PARAMETER:
                owner._parameters[field] = value
            elif spec.kind is InputKind.BUFFER:
                owner._buffers[field] = value
                if spec.persistent is False:
                    owner._non_persistent_buffers_set.add(field)
            else:
                owner.__dict__[field] = value

    def run_decompositions(self, decomp_table=None, decompose_custom_triton_ops=False):
        """A new program whose graph mutates none of its inputs, as PyTorch's: a buffer updated
        in place (batch norm's running statistics in training) is computed out of place and
        returned first, as a BUFFER_MUTATION output that ``module()`` copies back. minigrad's
        graph already calls minigrad's own functions, methods and layers, so there is no lower
        operator set to decompose into (``decomp_table`` must be None or empty)."""
        if decomp_table:
            raise NotImplementedError(
                "ExportedProgram.run_decompositions: a decomp_table is not supported in minigrad"
            )
        graph, signature = functionalize(
            self.graph, self._graph_signature, self._graph_module, self._out_spec is not None
        )
        gm = GraphModule(self._graph_module, graph, "GraphModule")
        gm.training = self._graph_module.training
        ep = ExportedProgram(gm, signature, self._state_dict, self.example_inputs,
                             self.dynamic_shapes, self._constants)  # fmt: skip
        ep._input_checks, ep._out_spec = self._input_checks, self._out_spec
        return ep

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


def _map(value, env: dict):
    from ..fx.node import map_arg

    return map_arg(value, lambda n: env[n])
