"""Warnings attributed to the caller's code, not to minigrad's internals.

A warning about how minigrad was called (a deprecated argument, a broadcast target, an implicit
``dim``) should point at the line of the program that made the call, as PyTorch's do. Counting
``stacklevel`` by hand breaks whenever a decorator or a helper adds a frame, so
:func:`warn_user` walks the stack to the first frame outside the minigrad package instead (what
Python 3.12's ``skip_file_prefixes`` does).
"""

from __future__ import annotations

import functools
import numbers
import os
import sys
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue ``message`` as a warning located at the nearest caller outside minigrad."""
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


_said_once: set = set()  # the keys of the once-per-program warnings already given
_warn_always = [False]  # torch.set_warn_always


def set_warn_always(b: bool) -> None:
    """Ask warnings that PyTorch shows once per process to show every time (a global flag)."""
    _warn_always[0] = bool(b)


def is_warn_always_enabled() -> bool:
    """The flag :func:`set_warn_always` sets."""
    return _warn_always[0]


def warn_user_once(key, message: str, category: type[Warning] = UserWarning) -> None:
    """:func:`warn_user`, but only the first time for ``key`` in this process, unless
    :func:`set_warn_always` asks for every time (PyTorch's ``TORCH_WARN_ONCE``: a loop over
    the call says it once)."""
    if key not in _said_once or _warn_always[0]:
        _said_once.add(key)
        warn_user(message, category)


def warn_deprecated_overload(name: str, old: str, new: str) -> None:
    """PyTorch's warning for a call in a deprecated signature (``add_(Number alpha, Tensor
    other)``, which pre-1.5 optimizers still use: ``p.data.add_(-lr, grad)``), in its words and
    once per process, as its argument parser warns (one flag for every deprecated overload)."""
    warn_user_once(
        "deprecated overload",  # one flag for every deprecated overload, as PyTorch's parser
        f"This overload of {name} is deprecated:\n\t{old}\n"
        f"Consider using one of the following signatures instead:\n\t{new}",
    )


def number_first_signatures(name: str, coefficient: str, tensors: str, *, method: bool):
    """The deprecated and the current signature PyTorch's warning shows for ``name`` called
    with the number first: ``tensors`` names the tensor arguments after ``self``/``input``
    (``"tensor1, tensor2"``), ``method`` picks the Tensor method's words or the function's."""
    typed = ", ".join(f"Tensor {t.strip()}" for t in tensors.split(","))
    if method:
        return (
            f"{name}(Number {coefficient}, {typed})",
            f"{name}({typed}, *, Number {coefficient} = 1)",
        )
    return (
        f"{name}(Tensor input, Number {coefficient}, {typed}, *, Tensor out = None)",
        f"{name}(Tensor input, {typed}, *, Number {coefficient} = 1, Tensor out = None)",
    )


def number_first_overload(name: str, coefficient: str, tensors: str, *, method: bool):
    """Decorates ``fn(self, tensor1, tensor2, *, value=1)`` to take PyTorch's deprecated
    overload with the number first as well, ``fn(self, Number value, tensor1, tensor2)``
    (``exp_avg_sq.addcmul_(1 - beta2, grad, grad)``), warning as PyTorch does (see
    :func:`number_first_signatures` for the arguments). With two tensors, a number first and
    too few arguments for the old form (``addcmul(x, 0, t)``) raises PyTorch's TypeError."""
    count = len(tensors.split(",")) + 1
    signatures = number_first_signatures(name, coefficient, tensors, method=method)

    def wrap(fn):
        @functools.wraps(fn)
        def call(self, *args, **kwargs):
            if len(args) == count and isinstance(args[0], numbers.Number):
                if coefficient in kwargs:
                    raise TypeError(f"{name}() got multiple values for argument '{coefficient}'")
                warn_deprecated_overload(name, *signatures)
                return fn(self, *args[1:], **kwargs, **{coefficient: args[0]})
            if count > 2 and args and isinstance(args[0], numbers.Number):  # neither overload
                raise TypeError(
                    f"{name}(): argument '{tensors.split(',')[0].strip()}' (position "
                    f"{1 if method else 2}) must be Tensor, not {type(args[0]).__name__}"
                )
            return fn(self, *args, **kwargs)

        return call

    return wrap


_LINALG_REPLACEMENTS = {
    "qr": (
        "torch.linalg.qr",
        "The boolean parameter 'some' has been replaced with a string parameter 'mode'.\n"
        "Q, R = torch.qr(A, some)\nshould be replaced with\n"
        "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')",
    ),
    "cholesky": (
        "torch.linalg.cholesky",
        "L = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\nand\n"
        "U = torch.cholesky(A, upper=True)\nshould be replaced with\n"
        "U = torch.linalg.cholesky(A).mH\nThis transform will produce equivalent results for all "
        "valid (symmetric positive definite) inputs.",
    ),
    "triangular_solve": (
        "torch.linalg.solve_triangular",
        "torch.linalg.solve_triangular has its arguments reversed and does not return a copy of "
        "one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced with\n"
        "X = torch.linalg.solve_triangular(A, B).",
    ),
    "lu": (
        "torch.linalg.lu_factor / torch.linalg.lu_factor_ex",
        "LU, pivots = torch.lu(A, compute_pivots)\nshould be replaced with\n"
        "LU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\n"
        "LU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\n"
        "LU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)",
    ),
    "lu_solve": (
        "torch.linalg.lu_solve",
        "Note that torch.linalg.lu_solve has its arguments reversed.\n"
        "X = torch.lu_solve(B, LU, pivots)\nshould be replaced with\n"
        "X = torch.linalg.lu_solve(LU, pivots, B)",
    ),
}


def warn_deprecated_linalg(name: str) -> None:
    """PyTorch's once-per-process warning for a deprecated ``torch.<name>`` that
    ``torch.linalg`` replaced (``qr``, ``cholesky``, ``lu``, ``triangular_solve``,
    ``lu_solve``), in its words (its missing space before "and" included)."""
    replacement, how = _LINALG_REPLACEMENTS[name]
    glue = " " if name in ("qr", "cholesky", "lu") else ""
    warn_user_once(
        f"deprecated torch.{name}",
        f"torch.{name} is deprecated in favor of {replacement}{glue}and will be removed in a "
        f"future PyTorch release.\n{how}",
    )
