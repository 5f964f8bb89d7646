"""``torch.distributed.pipelining``'s tracer front end on :mod:`minigrad.fx`: ``pipeline(module,
mb_args, split_spec={"layers.2": SplitPoint.BEGINNING})`` traces ``module`` (``symbolic_trace``,
the named submodules kept whole), cuts the graph before/after each named submodule
(``split_module``) and gives a :class:`Pipe` whose stage modules share the module's parameters
under their original names (``"2.weight"``), as PyTorch's.
"""

from enum import Enum

from ...fx import GraphModule, Tracer
from ...fx.passes.split_module import split_module
from .stage import PipelineStage


class SplitPoint(Enum):
    """Where ``split_spec`` cuts: before (``BEGINNING``) or after (``END``) the named submodule."""

    BEGINNING = 1
    END = 2


class PipeInfo:
    """What a stage needs from the traced pipeline: its graph and number of stages."""

    def __init__(self, graph, num_stages: int, has_loss_and_backward: bool = False):
        self.graph, self.num_stages = graph, num_stages
        self.has_loss_and_backward = has_loss_and_backward

    def __repr__(self) -> str:
        return (f"PipeInfo(graph={self.graph}, num_stages={self.num_stages}, "
                f"has_loss_and_backward={self.has_loss_and_backward})")  # fmt: skip


class Pipe:
    """A module cut into stages: ``split_gm`` (a GraphModule calling ``submod_0``, ``submod_1``,
    ... in turn), ``num_stages``, ``get_stage_module(i)``, ``build_stage(i, device)``."""

    def __init__(self, split_gm: GraphModule, num_stages: int):
        self.split_gm, self.num_stages = split_gm, num_stages

    def get_stage_module(self, stage_idx: int):
        if stage_idx < 0 or stage_idx >= self.num_stages:
            raise ValueError(f"Invalid stage index {stage_idx}!")
        return getattr(self.split_gm, f"submod_{stage_idx}")

    def info(self) -> PipeInfo:
        return PipeInfo(self.split_gm.graph, self.num_stages)

    def build_stage(self, stage_index: int, device, group=None) -> PipelineStage:
        """This rank's :class:`PipelineStage` of stage ``stage_index``."""
        return build_stage(self.get_stage_module(stage_index), stage_index, self.info(), device,
                           group)  # fmt: skip

    def __call__(self, *args, **kwargs):
        return self.split_gm(*args, **kwargs)


def build_stage(stage_module, stage_index: int, pipe_info: PipeInfo, device, group=None):
    """A :class:`PipelineStage` of a traced stage module."""
    return PipelineStage(stage_module, stage_index, pipe_info.num_stages, device, group=group)


class _KeepWhole(Tracer):
    """``symbolic_trace``'s tracer keeping the split points' submodules as single calls."""

    def __init__(self, names):
        super().__init__()
        self._names = set(names)

    def is_leaf_module(self, m, module_qualified_name: str) -> bool:
        return module_qualified_name in self._names or super().is_leaf_module(
            m, module_qualified_name
        )


def pipeline(module, mb_args, mb_kwargs=None, split_spec=None, split_policy=None) -> Pipe:
    """``module`` traced and cut at ``split_spec`` (submodule FQN -> :class:`SplitPoint`)."""
    if split_spec is not None and split_policy is not None:
        raise ValueError(
            "Cannot specify both `split_spec` and `split_policy`. Please use only one of them."
        )
    if split_policy is not None or not split_spec:
        raise NotImplementedError(
            "torch.distributed.pipelining.pipeline: split_policy and pipe_split() markers are "
            "not implemented in minigrad; name the cut points in split_spec"
        )
    for name in split_spec:
        module.get_submodule(name)  # (AttributeError naming a missing one, as PyTorch's)
    graph = _KeepWhole(split_spec).trace(module)
    traced = GraphModule(module, graph)
    if traced.graph.find_nodes(op="get_attr"):
        raise NotImplementedError(
            "torch.distributed.pipelining.pipeline: a forward that reads a parameter or buffer "
            "directly (not through a submodule call) is not implemented in minigrad"
        )
    marks, n = {}, 0
    for node in traced.graph.nodes:
        if node.op in ("placeholder", "output"):
            continue
        point = split_spec.get(node.target) if node.op == "call_module" else None
        n += point is SplitPoint.BEGINNING and bool(marks)  # (no cut before the first call)
        marks[node.name] = n
        n += point is SplitPoint.END
    ids = {v: i for i, v in enumerate(sorted(set(marks.values())))}  # stages 0, 1, ... in order
    split = split_module(traced, module, lambda node: ids[marks[node.name]])
    return Pipe(split, len(ids))


def pipe_split():
    """A split marker inside ``forward``; not implemented (use ``split_spec``)."""
    raise NotImplementedError(
        "torch.distributed.pipelining.pipe_split: split markers inside forward are not "
        "implemented in minigrad; name the cut points in pipeline(..., split_spec=...)"
    )
