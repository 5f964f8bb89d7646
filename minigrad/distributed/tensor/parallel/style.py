"""Tensor-parallel styles (``torch.distributed.tensor.parallel.style``): how
:func:`~minigrad.distributed.tensor.parallel.parallelize_module` shards a submodule's
parameters and lays out its inputs and outputs as DTensors (Megatron-LM's column- and
row-wise linear layers)."""

from __future__ import annotations

from ....nn.modules.linear import Linear
from ....nn.modules.sparse import Embedding
from ....nn.parameter import Parameter
from ....tensor import Tensor
from .._api import DTensor, distribute_module, distribute_tensor
from ..placement_types import Placement, Replicate, Shard

__all__ = [
    "ColwiseParallel",
    "ParallelStyle",
    "PrepareModuleInput",
    "PrepareModuleOutput",
    "RowwiseParallel",
    "SequenceParallel",
]


class ParallelStyle:
    """What :func:`parallelize_module` applies to a module (``_apply(module, device_mesh)``)."""

    src_data_rank: int | None = 0

    def _apply(self, module, device_mesh):
        raise NotImplementedError(f"{type(self).__name__}._apply")


def _shard_parameters(module, mesh, placements: dict, src_data_rank) -> None:
    """Replace ``module``'s parameters named in ``placements`` with DTensor parameters."""
    for name, placement in placements.items():
        param = getattr(module, name, None)
        if param is None:
            continue
        dist = distribute_tensor(param.data, mesh, [placement], src_data_rank=src_data_rank)
        module.register_parameter(name, Parameter(dist, param.requires_grad))


def _as_dtensor(x, mesh, layout: Placement, desired: Placement | None):
    """A module input as a DTensor of ``layout`` (a plain tensor is this rank's part),
    redistributed to ``desired``."""
    if not isinstance(x, DTensor):
        if not isinstance(x, Tensor):
            raise AssertionError("expecting input to be a torch.Tensor!")
        x = DTensor.from_local(x, mesh, (layout,), run_check=False)
    if desired is not None and layout != desired:
        x = x.redistribute(placements=(desired,))
    return x


class _LinearStyle(ParallelStyle):
    """Colwise and rowwise: the layer's input made a DTensor of ``input_layouts`` and
    redistributed to what the sharded layer needs; its output redistributed to
    ``output_layouts`` (and made local with ``use_local_output``)."""

    _default_input: Placement
    _default_output: Placement

    def __init__(self, *, input_layouts=None, output_layouts=None, use_local_output=True):
        self.input_layouts = (input_layouts or self._default_input,)
        self.output_layouts = (output_layouts or self._default_output,)
        self.use_local_output = use_local_output

    def _placements(self, module) -> tuple[dict, Placement]:
        """The parameters' placements and the input's desired layout for ``module``."""
        raise NotImplementedError

    def _apply(self, module, device_mesh):
        if not isinstance(module, (Linear, Embedding)):
            raise NotImplementedError(
                f"{type(self).__name__} currently only support nn.Linear and nn.Embedding!"
            )
        placements, desired = self._placements(module)

        def partition(name, submodule, mesh):
            if submodule is module:
                _shard_parameters(module, mesh, placements, self.src_data_rank)

        def prepare_input(mod, inputs, mesh):
            return (_as_dtensor(inputs[0], mesh, self.input_layouts[0], desired), *inputs[1:])

        def prepare_output(mod, outputs, mesh):
            if outputs.placements != self.output_layouts:
                outputs = outputs.redistribute(placements=self.output_layouts)
            return outputs.to_local() if self.use_local_output else outputs

        return distribute_module(module, device_mesh, partition, prepare_input, prepare_output)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_layouts={self.input_layouts}, "
            f"output_layouts={self.output_layouts}, use_local_output={self.use_local_output})"
        )


class ColwiseParallel(_LinearStyle):
    """Shard an ``nn.Linear``'s output features (weight and bias ``Shard(0)``) or an
    ``nn.Embedding``'s embedding dimension (``Shard(1)``): a replicated input (default
    ``input_layouts``) gives an output sharded on its last dimension (default
    ``output_layouts=Shard(-1)``), returned as this rank's local tensor
    (``use_local_output=True``) to feed a :class:`RowwiseParallel` layer.

    Example:
        >>> parallelize_module(mlp, mesh, {"fc1": ColwiseParallel(), "fc2": RowwiseParallel()})
    """

    _default_input, _default_output = Replicate(), Shard(-1)

    def _placements(self, module):
        if isinstance(module, Embedding):
            return {"weight": Shard(1)}, Replicate()
        return {"weight": Shard(0), "bias": Shard(0)}, Replicate()


class RowwiseParallel(_LinearStyle):
    """Shard an ``nn.Linear``'s input features (weight ``Shard(1)``, bias replicated) or an
    ``nn.Embedding``'s vocabulary (``Shard(0)``): an input sharded on its last dimension
    (default ``input_layouts=Shard(-1)``; replicated ids for an embedding) gives partial sums,
    all-reduced to the default ``output_layouts=Replicate()`` (or reduced and scattered to
    ``Shard(d)``).

    Example:
        >>> parallelize_module(mlp, mesh, {"fc1": ColwiseParallel(), "fc2": RowwiseParallel()})
    """

    _default_input, _default_output = Shard(-1), Replicate()

    def _placements(self, module):
        if isinstance(module, Embedding):
            return {"weight": Shard(0)}, Replicate()
        return {"weight": Shard(1), "bias": Replicate()}, Shard(-1)


def _layouts(value) -> tuple | None:
    return (value,) if isinstance(value, Placement) else value


class PrepareModuleInput(ParallelStyle):
    """Make a module's positional (``input_layouts``) and keyword (``input_kwarg_layouts``)
    inputs DTensors of those layouts, redistributed to ``desired_input_layouts`` (``None``
    leaves an input as it is); ``use_local_output=True`` passes their local tensors on."""

    def __init__(
        self,
        *,
        input_layouts=None,
        desired_input_layouts=None,
        input_kwarg_layouts=None,
        desired_input_kwarg_layouts=None,
        use_local_output=False,
    ):
        self.input_layouts = _layouts(input_layouts)
        self.desired_input_layouts = _layouts(desired_input_layouts)
        self.use_local_output = use_local_output
        if self.input_layouts is not None:
            if self.desired_input_layouts is None:
                raise AssertionError("desired module inputs should not be None!")
            if len(self.input_layouts) != len(self.desired_input_layouts):
                raise AssertionError(
                    "input_layouts and desired_input_layouts should have same length!"
                )
        self.with_kwargs = input_kwarg_layouts is not None
        self.input_kwarg_layouts = input_kwarg_layouts or {}
        self.desired_input_kwarg_layouts = desired_input_kwarg_layouts or {}
        if self.with_kwargs and len(self.input_kwarg_layouts) != len(
            self.desired_input_kwarg_layouts
        ):
            raise AssertionError(
                "input_kwarg_layouts and desired_input_kwarg_layouts should have same length!"
            )

    def _prepare(self, x, mesh, layout, desired):
        if layout is None:
            return x
        x = _as_dtensor(x, mesh, layout, desired)
        return x.to_local() if self.use_local_output else x

    def _prepare_inputs(self, inputs, mesh) -> tuple:
        if self.input_layouts is None:
            return inputs
        if len(inputs) != len(self.input_layouts):
            raise ValueError("module inputs and input_layouts should have same length!")
        return tuple(
            self._prepare(x, mesh, layout, desired)
            for x, layout, desired in zip(inputs, self.input_layouts, self.desired_input_layouts)
        )

    def _apply(self, module, device_mesh):
        if self.with_kwargs:

            def hook(mod, inputs, kwargs):
                kwargs = {
                    k: self._prepare(
                        v,
                        device_mesh,
                        self.input_kwarg_layouts.get(k),
                        self.desired_input_kwarg_layouts.get(k),
                    )
                    for k, v in kwargs.items()
                }
                return self._prepare_inputs(inputs, device_mesh), kwargs

            module.register_forward_pre_hook(hook, with_kwargs=True)
        else:
            module.register_forward_pre_hook(
                lambda mod, inputs: self._prepare_inputs(inputs, device_mesh)
            )
        return module


class PrepareModuleOutput(ParallelStyle):
    """Make a module's outputs DTensors of ``output_layouts`` (a plain tensor is this rank's
    part; ``None`` leaves one as it is), redistributed to ``desired_output_layouts``, and
    (``use_local_output=True``, the default) their local tensors."""

    def __init__(self, *, output_layouts, desired_output_layouts, use_local_output=True):
        self.output_layouts = _layouts(output_layouts)
        self.desired_output_layouts = _layouts(desired_output_layouts)
        self.use_local_output = use_local_output
        if len(self.output_layouts) != len(self.desired_output_layouts):
            raise AssertionError(
                "output_layouts and desired_output_layouts should have same length!"
            )

    def _prepare_outputs(self, outputs, mesh):
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        if len(outputs) != len(self.output_layouts):
            raise ValueError("module outputs and output_layouts should have same length!")
        prepared = []
        for out, layout, desired in zip(outputs, self.output_layouts, self.desired_output_layouts):
            if layout is not None:
                out = _as_dtensor(out, mesh, layout, desired)
                out = out.to_local() if self.use_local_output else out
            prepared.append(out)
        return prepared[0] if len(prepared) == 1 else tuple(prepared)

    def _apply(self, module, device_mesh):
        module.register_forward_hook(
            lambda mod, inputs, outputs: self._prepare_outputs(outputs, device_mesh)
        )
        return module


class SequenceParallel(ParallelStyle):
    """Run a norm (``nn.LayerNorm``, ``nn.RMSNorm``) on sequence shards: its parameters
    replicated (each rank's own, as PyTorch assumes they are equal), its input a DTensor
    sharded on ``sequence_dim`` (a plain tensor is this rank's shard; a DTensor is
    redistributed), its output the same shards (a DTensor unless ``use_local_output``). The
    parameters' gradients are summed over the ranks. Pair it with
    ``ColwiseParallel(input_layouts=Shard(1))`` (all-gathers the sequence) and
    ``RowwiseParallel(output_layouts=Shard(1))`` (reduces and scatters it)."""

    def __init__(self, *, sequence_dim: int = 1, use_local_output: bool = False):
        self.sequence_sharding = (Shard(sequence_dim),)
        self.use_local_output = use_local_output

    def _apply(self, module, device_mesh):
        def partition(name, submodule, mesh):
            for key, param in list(submodule._parameters.items()):
                if param is not None:
                    replica = distribute_tensor(param.data, mesh, [Replicate()], src_data_rank=None)
                    submodule.register_parameter(key, Parameter(replica, param.requires_grad))

        def prepare_input(mod, inputs, mesh):
            x = inputs[0]
            if not isinstance(x, Tensor):
                raise ValueError(
                    f"expecting input of {mod} to be a torch.Tensor or DTensor, but got {x}"
                )
            if isinstance(x, DTensor) and x.placements != self.sequence_sharding:
                x = x.redistribute(placements=self.sequence_sharding)
            elif not isinstance(x, DTensor):
                x = DTensor.from_local(x, mesh, self.sequence_sharding, run_check=False)
            return (x, *inputs[1:])

        def prepare_output(mod, outputs, mesh):
            return outputs.to_local() if self.use_local_output else outputs

        return distribute_module(module, device_mesh, partition, prepare_input, prepare_output)

    def __repr__(self) -> str:
        return (
            f"SequenceParallel(sequence_dim={self.sequence_sharding[0].dim}, "
            f"use_local_output={self.use_local_output})"
        )
