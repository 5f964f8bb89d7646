"""``parallelize_module``: apply tensor-parallel styles to a module or to its submodules by
name (``torch.distributed.tensor.parallel.api``)."""

from __future__ import annotations

from fnmatch import fnmatch

from ...._warnings import warn_user
from .style import ParallelStyle

__all__ = ["parallelize_module"]


def parallelize_module(module, device_mesh=None, parallelize_plan=None, *, src_data_rank=0):
    """Shard ``module`` for tensor parallelism on a 1-d ``device_mesh`` by
    ``parallelize_plan``: one :class:`ParallelStyle` for ``module`` itself, or a dict from
    submodule names (``fnmatch`` patterns per dotted part, ``"layers.*.mlp.fc1"``) to styles.
    ``src_data_rank``'s weights are the ones sharded (None: each rank's own). Returns
    ``module``, changed in place.

    Example:
        >>> mesh = init_device_mesh("cpu", (dist.get_world_size(),))
        >>> parallelize_module(mlp, mesh, {"fc1": ColwiseParallel(), "fc2": RowwiseParallel()})
    """
    if device_mesh is None:
        from .._api import _default_mesh

        device_mesh = _default_mesh("cpu")
    if device_mesh.ndim != 1:
        raise NotImplementedError(
            f"parallelize_module: a {device_mesh.ndim}-d mesh (minigrad's tensor parallelism "
            f"runs on a 1-d mesh over the world)"
        )
    if parallelize_plan is None:
        warn_user(
            "No parallelize_plan is provided and auto-parallel is not supported at the moment, "
            "so this parallelize_module call will do nothing."
        )
        return module
    if isinstance(parallelize_plan, ParallelStyle):
        parallelize_plan.src_data_rank = src_data_rank
        return parallelize_plan._apply(module, device_mesh)
    if not isinstance(parallelize_plan, dict):
        raise TypeError(
            "Expect Union[ParallelStyle, Dict[str, ParallelStyle]] for parallelize_plan, "
            f"{type(parallelize_plan)} found!"
        )
    for path, style in parallelize_plan.items():
        if path == "":
            parallelize_module(module, device_mesh, style, src_data_rank=src_data_rank)
            continue
        token, _, rest = path.partition(".")
        matched = [m for name, m in module.named_children() if fnmatch(name, token)]
        if not matched:
            warn_user(
                f"Parallelize plan key '{path}' could not be resolved: no submodule matching "
                f"token '{token}' in module {module}, skipping this plan entry."
            )
        for sub in matched:
            plan = {rest: style} if rest else style
            parallelize_module(sub, device_mesh, plan, src_data_rank=src_data_rank)
    return module
