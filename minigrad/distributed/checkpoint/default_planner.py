"""``torch.distributed.checkpoint.default_planner``: :class:`DefaultSavePlanner` and
:class:`DefaultLoadPlanner`, the planners ``dcp.save``/``dcp.load`` use when given none.

minigrad's planning (flattened keys such as ``"optim.state.fc.weight.exp_avg"``, each chunk
written once, by the lowest rank holding it) is built into ``save``/``load``; these classes
carry PyTorch's options into it: ``allow_partial_load=True`` skips the keys the checkpoint
lacks. Options that change the plan in other ways, and subclasses overriding PyTorch's planner
hooks (``set_up_planner``, ``create_local_plan``, ``create_global_plan``, ...), raise
``NotImplementedError``.
"""

__all__ = ["DefaultSavePlanner", "DefaultLoadPlanner"]


def _flattened(flatten_state_dict: bool, planner: str) -> None:
    if not flatten_state_dict:
        raise NotImplementedError(
            f"{planner}(flatten_state_dict=False) is not implemented in minigrad (its "
            "checkpoints key nested values by their flattened paths)"
        )


class DefaultSavePlanner:
    """``DefaultSavePlanner(flatten_state_dict=True, flatten_sharded_tensors=True,
    dedup_replicated_tensors=None, dedup_save_to_lowest_rank=False, enable_plan_caching=False)``:
    the default plan (minigrad writes a replicated chunk from its lowest rank whatever
    ``dedup_save_to_lowest_rank`` says: the files differ, their contents do not)."""

    def __init__(self, flatten_state_dict: bool = True, flatten_sharded_tensors: bool = True,
                 dedup_replicated_tensors=None, dedup_save_to_lowest_rank: bool = False,
                 enable_plan_caching: bool = False):  # fmt: skip
        _flattened(flatten_state_dict, "DefaultSavePlanner")
        self.flatten_state_dict, self.flatten_sharded_tensors = True, flatten_sharded_tensors
        self.dedup_save_to_lowest_rank = dedup_save_to_lowest_rank
        self.enable_plan_caching = enable_plan_caching


class DefaultLoadPlanner:
    """``DefaultLoadPlanner(flatten_state_dict=True, flatten_sharded_tensors=True,
    allow_partial_load=False)``: with ``allow_partial_load=True`` the state dict's keys that the
    checkpoint lacks are left as they are instead of raising."""

    def __init__(self, flatten_state_dict: bool = True, flatten_sharded_tensors: bool = True,
                 allow_partial_load: bool = False):  # fmt: skip
        _flattened(flatten_state_dict, "DefaultLoadPlanner")
        self.flatten_state_dict, self.flatten_sharded_tensors = True, flatten_sharded_tensors
        self.allow_partial_load = allow_partial_load


def check_planner(planner, default: type, what: str):
    """``planner`` (None: ``default()``), refused unless it is ``default`` itself: a subclass
    overrides the hooks minigrad's built-in planning does not call."""
    if planner is None:
        return default()
    if type(planner) is not default:
        raise NotImplementedError(
            f"{what}: custom planners ({type(planner).__name__}; subclasses overriding "
            f"{default.__name__}'s hooks such as create_local_plan) are not implemented in "
            f"minigrad; {default.__name__} is"
        )
    return planner
