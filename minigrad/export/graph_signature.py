"""The graph signature of an exported program: what each graph input and output is
(PyTorch's ``torch.export.graph_signature``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class InputKind(enum.Enum):
    """What a graph input stands for."""

    USER_INPUT = 1
    PARAMETER = 2
    BUFFER = 3
    CONSTANT_TENSOR = 4
    CUSTOM_OBJ = 5
    TOKEN = 6


class OutputKind(enum.Enum):
    """What a graph output stands for (minigrad's programs give USER_OUTPUT and, after
    ``run_decompositions``, BUFFER_MUTATION; the others are PyTorch's training-IR kinds)."""

    USER_OUTPUT = 1
    LOSS_OUTPUT = 2
    BUFFER_MUTATION = 3
    PARAMETER_MUTATION = 4
    GRADIENT_TO_PARAMETER = 5
    GRADIENT_TO_USER_INPUT = 6
    USER_INPUT_MUTATION = 7
    TOKEN = 8


@dataclass
class TensorArgument:
    """A graph value, named as its node."""

    name: str


@dataclass
class ConstantArgument:
    """A non-tensor value among the inputs or outputs (``None``, a number)."""

    name: str
    value: object


@dataclass
class InputSpec:
    """One input: its kind, its name in the graph, and the state-dict key it reads."""

    kind: InputKind
    arg: TensorArgument | ConstantArgument
    target: str | None
    persistent: bool | None = None


@dataclass
class OutputSpec:
    """One output: its kind, its node's name and (for a mutation) the buffer it updates."""

    kind: OutputKind
    arg: TensorArgument | ConstantArgument
    target: str | None = None


@dataclass
class ExportGraphSignature:
    """The inputs (parameters, buffers, constants, then user inputs) and outputs (buffer
    mutations, then user outputs) of an exported graph, in placeholder and output order."""

    input_specs: list[InputSpec]
    output_specs: list[OutputSpec]

    def _targets(self, kind: InputKind) -> tuple[str, ...]:
        return tuple(s.target for s in self.input_specs if s.kind is kind)

    @property
    def parameters(self) -> tuple[str, ...]:
        """State-dict keys of the parameters."""
        return self._targets(InputKind.PARAMETER)

    @property
    def buffers(self) -> tuple[str, ...]:
        """State-dict keys (or attribute names, when not persistent) of the buffers."""
        return self._targets(InputKind.BUFFER)

    @property
    def non_persistent_buffers(self) -> tuple[str, ...]:
        """The buffers not in the state dict."""
        return tuple(
            s.target
            for s in self.input_specs
            if s.kind is InputKind.BUFFER and s.persistent is False
        )

    @property
    def user_inputs(self) -> tuple:
        """Names of the user inputs, in order (values for constant ones, as PyTorch's)."""
        return tuple(
            s.arg.value if isinstance(s.arg, ConstantArgument) else s.arg.name
            for s in self.input_specs
            if s.kind is InputKind.USER_INPUT
        )

    @property
    def lifted_tensor_constants(self) -> tuple[str, ...]:
        """Attribute paths of the tensor constants."""
        return self._targets(InputKind.CONSTANT_TENSOR)

    @property
    def user_outputs(self) -> tuple:
        """Names of the user outputs (values for constant ones)."""
        return tuple(
            s.arg.value if isinstance(s.arg, ConstantArgument) else s.arg.name
            for s in self.output_specs
            if s.kind is OutputKind.USER_OUTPUT
        )

    @property
    def inputs_to_parameters(self) -> dict[str, str]:
        """Input name -> parameter key."""
        return {s.arg.name: s.target for s in self.input_specs if s.kind is InputKind.PARAMETER}

    @property
    def inputs_to_buffers(self) -> dict[str, str]:
        """Input name -> buffer key."""
        return {s.arg.name: s.target for s in self.input_specs if s.kind is InputKind.BUFFER}

    @property
    def inputs_to_lifted_tensor_constants(self) -> dict[str, str]:
        """Input name -> constant's attribute path."""
        return {
            s.arg.name: s.target for s in self.input_specs if s.kind is InputKind.CONSTANT_TENSOR
        }

    @property
    def buffers_to_mutate(self) -> dict[str, str]:
        """Output name -> the buffer it updates (BUFFER_MUTATION outputs)."""
        return {
            s.arg.name: s.target for s in self.output_specs if s.kind is OutputKind.BUFFER_MUTATION
        }

    def __str__(self) -> str:
        lines = ["# inputs"]
        for s in self.input_specs:
            line = f"{s.arg.name}: {s.kind.name}"
            if s.target is not None:
                line += f" target={s.target!r}"
            if s.persistent is not None:
                line += f" persistent={s.persistent}"
            lines.append(line)
        lines += ["", "# outputs"]
        lines += [
            f"{s.arg.name}: {s.kind.name}" + ("" if s.target is None else f" target={s.target!r}")
            for s in self.output_specs
        ]
        return "\n".join(lines) + "\n"
