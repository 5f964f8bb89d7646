"""``nn.utils.stateless``, as ``torch.nn.utils.stateless``: ``functional_call`` runs a module
with other tensors in place of its parameters and buffers. ``minigrad.func.functional_call``
(``torch.func.functional_call``) is the same function."""

from __future__ import annotations


def _owner(module, name: str):
    path, _, leaf = name.rpartition(".")
    return (module.get_submodule(path) if path else module), leaf


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
        strict: every parameter and buffer must be given.

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
    unexpected = [k for k in given if k not in known]
    if unexpected:
        raise RuntimeError(
            f"functional_call: Unexpected key(s): {', '.join(repr(k) for k in unexpected)}; the "
            f"module has parameters and buffers {sorted(known)}"
        )
    if tie_weights:
        by_id = {id(known[k]): v for k, v in given.items()}
        for name, t in known.items():
            if name not in given and id(t) in by_id:
                given[name] = by_id[id(t)]
    if strict:
        missing = [k for k in known if k not in given]
        if missing:
            raise RuntimeError(
                f"functional_call: Missing key(s): {', '.join(repr(k) for k in missing)}"
            )
    saved = []
    try:
        for name, value in given.items():
            owner, leaf = _owner(module, name)
            store = owner._parameters if leaf in owner._parameters else owner._buffers
            saved.append((store, leaf, store[leaf]))
            store[leaf] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for store, leaf, old in reversed(saved):
            store[leaf] = old
