"""Generate ``minigrad/_tensor_params_table.py``: the parameters where PyTorch refuses a number.

For every public callable minigrad and PyTorch both have (the namespaces of
``scripts/raise_parity_sweep.py``), PyTorch is called with float tensors and one Python int in
position ``p`` (p = 0..3). Where its argument parser answers ``argument 'NAME' (position
p+1) must be KIND, not int`` (a single signature whose parameter is a ``Tensor`` or a ``tuple
of ints``, as ``torch.flip``'s dims), and refuses the int with one more argument too,
``(p, NAME, KIND)`` is recorded (PyTorch's words, for the message), provided minigrad's
function takes a ``p``-th positional argument. Top-level functions whose overloads all take a
Tensor at 0 or 1 (``f(2, t)`` refused, ``f(t, 3)`` taken: ``fmod``, ``gt``; ``lerp``'s
``end``) get that position, named as minigrad does; those refusing ``f(2, 3)`` while taking ``f(t, 3)`` and ``f(3, t)`` (``pow``,
``remainder``: a Number overload each way) need a Tensor among their first two arguments.

Tensor methods are listed only where minigrad's method (without the screen) answers the number:
a method's screen costs a call, which hot methods that refuse already (``x.matmul(2)``, with
another exception) are spared.

Number parameters (``NUMBER_PARAMS``, :func:`number_params`): where PyTorch refuses a
multi-element Tensor at position ``p`` ("argument 'dim' (position 2) must be int, not Tensor")
after every head of Tensors and ints, and minigrad's parameter there has PyTorch's name; Tensor
methods in :data:`HOT_METHODS` are left out. ``NUMBER_OPS``: PyTorch's name of the op in those
messages where it is not the function's (``fft_fft``).

Run (PyTorch installed): ``PYTHONPATH=. python scripts/tensor_params_table.py > \
minigrad/_tensor_params_table.py && ruff format minigrad/_tensor_params_table.py``
"""

from __future__ import annotations

import collections
import inspect
import itertools
import re
import sys
import warnings

import torch

import minigrad

sys.path.insert(0, "scripts")
from raise_parity_sweep import _ns, targets

KINDS = "Tensor|tuple of ints"  # what PyTorch's parser says a number there must be
# what PyTorch's parser says a Tensor there must be (a number parameter)
NUMBER_KINDS = "int|float|Number|bool|complex|tuple of ints|tuple of floats"
# Tensor methods left unscreened: model code and backward passes call them on every step, and
# a screen costs them a call each (their functions, ``torch.sum(x, t)``, are screened)
HOT_METHODS = frozenset(
    "size stride sum mean max min prod reshape expand broadcast_to transpose transpose_ swapaxes "
    "swapdims unsqueeze unsqueeze_ permute flatten softmax log_softmax split chunk select unbind "
    "repeat gather diagonal copy_ new_zeros new_ones new_full new_empty tile flip".split()
)


def _torch_call(path, name, args):
    x = torch.arange(1.0, 7.0).reshape(2, 3)
    fn = getattr(x, name) if path == "Tensor" else getattr(_ns(torch, path), name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(*args)
        except TypeError as exc:
            return str(exc)
        except Exception as exc:
            return f"({type(exc).__name__})"  # refused, not by the argument parser
    return ""


def _parses(path, name, args) -> bool:
    """Whether PyTorch's argument parser takes ``args`` (the call may still fail later)."""
    return _torch_call(path, name, args)[:1] in ("", "(")


def _overloads(msg: str) -> list:
    """The signatures listed in an "invalid combination" message (`` * (Tensor input, ...)``)."""
    return [line.strip()[3:-1] for line in msg.splitlines() if line.strip().startswith("* (")]


def _tensor_among_two(signature: str) -> bool:
    """Whether one of a signature's first two parameters is a Tensor (not ``normal(float mean,
    float std, tuple of ints size)``)."""
    return any(p.strip().startswith("Tensor ") for p in signature.split(",")[:2])


def _params(fn):
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _tensor_in_every_overload(path, name, t, p) -> bool:
    """Whether every overload of ``path.name`` takes a Tensor at ``p``, followed by a Number or a
    Tensor (``fmod``, ``gt`` at 0: ``f(2, t)`` and ``f(2, 3)`` refused, ``f(t, 3)`` and ``f(t, t)``
    taken; ``lerp``'s ``end`` at 1)."""
    head = [t] * p
    return (
        not _parses(path, name, [*head, 2])  # x.add_(2) is taken
        and "invalid combination of arguments" in _torch_call(path, name, [*head, 2, t])
        and "invalid combination of arguments" in _torch_call(path, name, [*head, 2, 3])
        and _parses(path, name, [*head, t, 3])
        and _parses(path, name, [*head, t, t])
    )


def _mine_answers(method, p) -> bool:
    """Whether minigrad's Tensor ``method`` (without its screen) answers a number at ``p``."""
    method = getattr(method, "__wrapped__", method)
    x = minigrad.arange(1.0, 7.0).reshape(2, 3)
    for tail in ([], [x], [x, x], [0.5], [0.5, 0.5]):  # what may follow (lerp's weight)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                method(x, *([x] * p + [2] + tail))
            except Exception:
                continue
        return True
    return False


def tensor_params(path, name):
    """[(position, name)] of ``path.name``'s Tensor-only parameters, PyTorch's positions
    (``self`` not counted for methods); and whether it needs a Tensor among its first two."""
    t = torch.arange(1.0, 7.0).reshape(2, 3)
    mine = getattr(minigrad.Tensor if path == "Tensor" else _ns(minigrad, path), name)
    names = _params(mine)
    if names is not None and path == "Tensor":
        names = names[1:]
    found = []
    for p in range(4):
        msg = _torch_call(path, name, [t] * p + [2])
        m = re.match(
            rf"\w+\(\): argument '(\w+)' \(position {p + 1}\) must be ({KINDS}), not int", msg
        )
        # a number there with one more argument must be refused too (normal(2.0, std) is fine)
        if m and (names is None or p < len(names)) and _torch_call(path, name, [t] * p + [2, t]):
            found.append((p, m.group(1), m.group(2)))
    for p in (0, 1):
        if all(q != p for q, _, _ in found) and _tensor_in_every_overload(path, name, t, p):
            fallback = ("input", "other")[p] if path != "Tensor" else "other"
            found.append((p, names[p] if names and p < len(names) else fallback, "Tensor"))
    found.sort()
    if path == "Tensor" and found and not any(_mine_answers(mine, p) for p, _, _ in found):
        found = []  # minigrad's method refuses already: no screen (a call) on a hot method
    pair = False
    if path != "Tensor" and not found:
        msg = _torch_call(path, name, [2, 3])
        if "invalid combination of arguments - got (int, int)" in msg:
            pair = _parses(path, name, [t, 3]) and _parses(path, name, [3, t])
            pair = pair and all(_tensor_among_two(line) for line in _overloads(msg))
    return found, pair


def number_params(path, name):
    """[(position, name, kind)] of ``path.name``'s number parameters (PyTorch's positions), where
    PyTorch refuses a multi-element Tensor (``cumsum(x, t)``: "argument 'dim' (position 2) must
    be int, not Tensor") and minigrad's parameter there has PyTorch's name, and PyTorch's name of the op when its message names another
    (``fft_fft``). The arguments before ``p`` are tried as Tensors, ints and tuples (``threshold(x,
    1, t)``, ``full((2,), t)``)."""
    t, many = torch.arange(1.0, 7.0).reshape(2, 3), torch.ones(2, 2)
    mine = getattr(minigrad.Tensor if path == "Tensor" else _ns(minigrad, path), name)
    names = _params(mine)
    if names is not None and path == "Tensor":
        names = names[1:]
    found, op = [], name
    for p in range(4):
        if names is not None and p >= len(names):
            break
        for head in itertools.product((t, 1, (2,)), repeat=p):
            msg = _torch_call(path, name, [*head, many])
            m = re.match(
                rf"(\w+)\(\): argument '(\w+)' \(position {p + 1}\) must be ({NUMBER_KINDS}), "
                "not Tensor",
                msg,
            )
            # refused after every head (not clamp(x, t, t)'s Tensor overload)
            heads = itertools.product((t, 1, (2,)), repeat=p)
            same = m and (names is None or names[p] == m.group(2))  # minigrad's parameter too
            if same and not any(_parses(path, name, [*h, many]) for h in heads):
                found.append((p, m.group(2), m.group(3)))
                op = m.group(1)
                break
    return found, op


HEADER = '''"""The parameters where PyTorch refuses a number, and those where it refuses a Tensor of
more than one element, by namespace and function (generated by scripts/tensor_params_table.py
from PyTorch's argument parser: do not edit by hand).

``TENSOR_PARAMS``: namespace -> ((position, name, kind), ...) -> function names; positions
count from 0 without ``self`` for Tensor methods. ``TENSOR_PAIR``: namespace -> names of
functions that need a Tensor among their first two arguments (a Number may be either).
``NUMBER_PARAMS``: as ``TENSOR_PARAMS``, for the number parameters (kind: what PyTorch says the
argument must be); ``NUMBER_OPS``: (namespace, name) -> the op's name in PyTorch's message."""
'''


def main():
    specs = collections.defaultdict(list)
    pairs = collections.defaultdict(list)
    numbers = collections.defaultdict(list)
    ops = {}
    for path, name in targets():
        try:
            spec, op = number_params(path, name)
        except Exception as exc:
            print(f"# error {path}.{name}: {exc}", file=sys.stderr)
            spec, op = [], name
        if spec and not (path == "Tensor" and name in HOT_METHODS):
            numbers[(path, tuple(spec))].append(name)
            if op != name:
                ops[(path, name)] = op
        try:
            found, pair = tensor_params(path, name)
        except Exception as exc:
            print(f"# error {path}.{name}: {exc}", file=sys.stderr)
            continue
        if found:
            specs[(path, tuple(found))].append(name)
        if pair:
            pairs[path].append(name)
    print(HEADER)
    print("TENSOR_PARAMS = {")
    for (path, spec), names in sorted(specs.items()):
        print(f"    ({path!r}, {spec!r}): {' '.join(sorted(names))!r},")
    print("}")
    print("TENSOR_PAIR = {")
    for path, names in sorted(pairs.items()):
        print(f"    {path!r}: {' '.join(sorted(names))!r},")
    print("}")
    print("NUMBER_PARAMS = {")
    for (path, spec), names in sorted(numbers.items()):
        print(f"    ({path!r}, {spec!r}): {' '.join(sorted(names))!r},")
    print("}")
    print("NUMBER_OPS = {")
    for key, op in sorted(ops.items()):
        print(f"    {key!r}: {op!r},")
    print("}")


if __name__ == "__main__":
    main()
