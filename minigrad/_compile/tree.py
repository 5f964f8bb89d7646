"""Maps over the argument trees of NumPy calls (tuples, lists and dicts nest; all else is a leaf).

Kept apart from :mod:`minigrad.utils._pytree` on purpose: it runs on every NumPy call a
replay makes, so it tests exact types only, and a namedtuple or OrderedDict argument of a NumPy
call stays one leaf (a value to compare), not a node to take apart.
"""

from __future__ import annotations


def tree_map(fn, obj):
    """``obj`` with ``fn`` applied to every leaf inside tuples, lists and dicts."""
    cls = type(obj)
    if cls is tuple or cls is list:
        return cls(tree_map(fn, o) for o in obj)
    if cls is dict:
        return {k: tree_map(fn, v) for k, v in obj.items()}
    return fn(obj)


def leaves(obj, found: list) -> list:
    """The leaves of ``obj`` appended to ``found`` (returned)."""
    cls = type(obj)
    if cls is tuple or cls is list:
        for o in obj:
            leaves(o, found)
    elif cls is dict:
        for o in obj.values():
            leaves(o, found)
    else:
        found.append(obj)
    return found
