"""``nn.utils.stateless``, as ``torch.nn.utils.stateless``: ``functional_call`` runs a module
with other tensors in place of its parameters and buffers. ``minigrad.func.functional_call``
(``torch.func.functional_call``) is the same function."""

from __future__ import annotations

_ABSENT = object()


def _owner_of(module, name: str):
    """The submodule holding ``name`` and its last part; PyTorch's AttributeError for a path
    through a submodule that does not exist."""
    *path, leaf = name.split(".")
    owner = module
    for part in path:
        child = owner._modules.get(part) if hasattr(owner, "_modules") else None
        if child is None:
            raise AttributeError(f"{type(owner).__name__} has no attribute `{part}`")
        owner = child
    return owner, leaf


def _check_strict(module, known: dict, given: dict) -> None:
    """``strict=True``: every parameter and buffer given, nothing else (PyTorch's report)."""
    unexpected = [k for k in given if k not in known]
    missing = [k for k in known if k not in given]
    if unexpected or missing:
        lines = [f"Error(s) in reparametrizing for {type(module).__name__}:"]
        for what, keys in (("Unexpected", unexpected), ("Missing", missing)):
            if keys:
                lines.append(f"\t{what} key(s): {', '.join(repr(k) for k in keys)}.")
        raise RuntimeError("\n".join(lines))


def functional_call(module, parameter_and_buffer_dicts, args=(), kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):  # fmt: skip
    """``module(*args, **kwargs)`` computed with the given tensors as its parameters and
    buffers (by dotted name), as ``torch.func.functional_call``; the module is unchanged after.

    This is how :func:`grad` and :func:`vmap` differentiate or batch over a model's weights:
    ``grad(lambda p: loss(functional_call(model, p, (x,)), y))(dict(model.named_parameters()))``.

    Args:
        module: an ``nn.Module``.
        parameter_and_buffer_dicts: ``{name: tensor}`` (or a tuple of such dicts); names not
            given keep the module's own tensors.
        args: positional arguments (a single tensor is accepted as one argument).
        kwargs: keyword arguments.
        tie_weights: a tensor given for one of several names that share a parameter (tied
            weights) replaces all of them.
        strict: every parameter and buffer must be given, and nothing else (otherwise a name
            that is not a parameter or buffer is set as a plain attribute during the call).

    Example:
        >>> params = {k: v.detach() * 2 for k, v in model.named_parameters()}
        >>> y = functional_call(model, params, (x,))
    """
    dicts = (
        parameter_and_buffer_dicts
        if isinstance(parameter_and_buffer_dicts, (tuple, list))
        else (parameter_and_buffer_dicts,)
    )
    given = {}
    for d in dicts:
        for k, v in d.items():
            if k in given:
                raise ValueError(
                    f"functional_call: {k!r} appeared in multiple dictionaries; each name may be "
                    f"given once"
                )
            given[k] = v
    known = dict(module.named_parameters(remove_duplicate=False))
    known.update(dict(module.named_buffers(remove_duplicate=False)))
    if tie_weights:
        by_id = {id(known[k]): v for k, v in given.items() if k in known}
        for name, t in known.items():
            if name not in given and id(t) in by_id:
                given[name] = by_id[id(t)]
    if strict:
        _check_strict(module, known, given)
    saved = []
    try:
        for name, value in given.items():
            owner, leaf = _owner_of(module, name)
            if leaf in owner._parameters or leaf in owner._buffers:
                store = owner._parameters if leaf in owner._parameters else owner._buffers
                saved.append((store, leaf, store[leaf]))
                store[leaf] = value
            else:  # not a parameter or buffer: a plain attribute while the call runs, as PyTorch
                saved.append((owner, leaf, getattr(owner, leaf, _ABSENT)))
                object.__setattr__(owner, leaf, value)
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for store, leaf, old in reversed(saved):
            if isinstance(store, dict):
                store[leaf] = old
            elif old is _ABSENT:
                object.__delattr__(store, leaf)
            else:
                object.__setattr__(store, leaf, old)
