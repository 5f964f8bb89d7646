"""The one size parser: every factory function and shape op reads its sizes through it, so
that ``zeros(2.5)``, ``reshape('3')`` or ``expand(2.0, 3)`` raise ``TypeError`` as in PyTorch
instead of being truncated to integers."""

from __future__ import annotations

import operator

from .. import _public_name


def _is_sequence(value) -> bool:
    if type(value) in (tuple, list, int) or isinstance(value, (tuple, list)):
        return type(value) is not int
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return False
    return getattr(value, "ndim", 1) != 0  # a 0-d tensor or array is one size, not a sequence


def as_int(value, op: str, name: str) -> int:
    """``value`` as a Python int: ints, NumPy integers and one-element integer tensors pass
    (``operator.index``); bools, floats, strings and None raise ``TypeError``, an int beyond
    64 bits ``ValueError`` (PyTorch's words), as in PyTorch."""
    if not isinstance(value, bool):
        try:
            index = operator.index(value)
        except TypeError:
            pass
        else:
            check_int64(index, op, name)
            return index
    raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")


def check_int64(value: int, op: str, name: str) -> None:
    """PyTorch's ``ValueError`` for an int size, dim, count or offset beyond 64 bits
    (``split(x, 2**70)``, ``roll(x, 2**70)``): Python would otherwise take it whole, or reduce
    it modulo a size, and return an answer PyTorch never gives."""
    if not -(2**63) <= value < 2**63:
        raise ValueError(
            f"{op}(): argument '{name}': Overflow when unpacking long long ({value} is beyond "
            "the 64-bit range of PyTorch's int arguments)"
        )


def dim_entry(sizes: tuple, dim, op: str):
    """``sizes[dim]`` for ``Tensor.size(dim)`` and ``stride(dim)``, with ``dim`` read as PyTorch
    reads it: an int, a NumPy integer or a one-element integer tensor; a dim name (PyTorch
    2.13 has no named tensors), a float or a bool raises ``TypeError``, a dim out of range
    ``IndexError``, in PyTorch's words."""
    if isinstance(dim, bool) or not hasattr(dim, "__index__"):
        raise TypeError(
            f"{op}(): argument 'dim' (position 1) must be int, not {type(dim).__name__}"
        )
    dim = operator.index(dim)
    n = len(sizes)
    if n == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return sizes[dim]


def require_sizes(args: tuple, op: str, name: str = "size") -> tuple:
    """``args`` when at least one size was given: PyTorch's ``TypeError`` for a call with none
    (``x.new_zeros()``, ``x.sum_to_size()``), which would otherwise mean the 0-d shape ``()``
    (pass ``()`` for that, as in PyTorch)."""
    if not args:
        raise TypeError(f'{op}() missing 1 required positional arguments: "{name}"')
    return args


def sized_by_keyword(args: tuple, keyword, op: str, name: str, required: bool = False) -> tuple:
    """The positional sizes ``args``, or ``(keyword,)`` when the sizes came by name, as PyTorch
    also accepts (``x.reshape(shape=(2, 3))``, ``x.view(size=...)``, ``x.permute(dims=...)``).

    Raises:
        TypeError: sizes given both ways, or (``required``) not at all.
    """
    if keyword is None:
        return require_sizes(args, op, name) if required else args
    if args:
        raise TypeError(f"{op}() got multiple values for argument '{name}'")
    return (keyword,)


def parse_size(args, op: str, name: str = "size") -> tuple:
    """The sizes given as ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(t.shape)``, as a
    tuple of Python ints. Signs are not checked here (``-1`` means "infer" for reshape and
    "keep" for expand); see :func:`check_nonnegative` for the factories.

    Raises:
        TypeError: an element is not an integer (a float, bool, str, None, a nested tuple),
            naming ``op``, the argument and the position, as PyTorch's argument parser does.

    Example:
        >>> parse_size((2, 3), "zeros")      # (2, 3)
        >>> parse_size(([2, 3],), "zeros")   # (2, 3)
        >>> parse_size((2.5,), "zeros")      # TypeError: zeros(): argument 'size' ...
    """
    items = args[0] if len(args) == 1 and _is_sequence(args[0]) else args
    if all(type(s) is int for s in items):  # the common case, checked without more work
        return tuple(items)
    if len(args) == 1 and _is_sequence(args[0]):
        items = tuple(args[0])
    elif len(args) == 1:
        value = args[0]
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            raise TypeError(
                f"{op}(): argument '{name}' (position 1) must be tuple of ints, not "
                f"{type(value).__name__}"
            )
        items = (value,)
    else:
        items = tuple(args)
    out = []
    for i, s in enumerate(items):
        if isinstance(s, bool) or not hasattr(s, "__index__"):
            raise TypeError(
                f"{op}(): argument '{name}' must be tuple of ints, but found element of type "
                f"{type(s).__name__} at pos {i}"
            )
        try:
            out.append(operator.index(s))
        except TypeError:  # e.g. a float tensor: it has __index__, which refuses
            raise TypeError(
                f"{op}(): argument '{name}' must be tuple of ints, but found element of type "
                f"{type(s).__name__} at pos {i}"
            ) from None
    return tuple(out)


def check_nonnegative(shape: tuple, op: str) -> tuple:
    """``shape`` if no size is negative, else PyTorch's ``RuntimeError``."""
    for s in shape:
        if s < 0:
            raise RuntimeError(
                f"{op}: Trying to create tensor with negative dimension {s}: {list(shape)}"
            )
    return shape


def factory_size(args, op: str, name: str = "size") -> tuple:
    """The size of a new tensor: :func:`parse_size` and no negative sizes.

    Differs from PyTorch on purpose: no size at all (``zeros()``) gives a 0-d tensor where
    PyTorch raises ``TypeError``, so that ``randn(*t.shape)`` also works for a 0-d ``t``.
    """
    return check_nonnegative(parse_size(args, op, name), op)


def infer_shape(shape: tuple, numel: int, op: str) -> tuple:
    """``shape`` for a tensor of ``numel`` elements, with one ``-1`` filled in (reshape/view).

    Raises RuntimeError as PyTorch for a size below -1, more than one -1, or a shape whose
    product is not ``numel``.
    """
    infer = None
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError(f"{op}: only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(
                f"{op}: invalid shape dimension {s} at index {i} of shape {list(shape)}"
            )
    known = 1
    for i, s in enumerate(shape):
        if i != infer:
            known *= s
    if infer is not None:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:infer] + (numel // known,) + shape[infer + 1 :]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def with_size(shape, dim: int, size: int) -> tuple:
    """``shape`` with the size at ``dim`` replaced by ``size``."""
    return tuple(shape[:dim]) + (size,) + tuple(shape[dim + 1 :])


_tuple_getitem, _tuple_new = tuple.__getitem__, tuple.__new__


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as ``minigrad.Size([2, 3])``, as
    ``torch.Size``. It equals and hashes as the plain tuple; slicing, ``+`` and ``*`` give a Size.

    Example:
        >>> minigrad.zeros(2, 3).shape
        minigrad.Size([2, 3])
        >>> minigrad.Size([2, 3]).numel()
        6
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        return super().__new__(cls, (as_int(s, "Size", "sizes") for s in sizes))

    def __repr__(self) -> str:
        return f"{_public_name.shown()}.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, key):
        item = _tuple_getitem(self, key)  # (not super(): this runs for every shape[i])
        return _tuple_new(Size, item) if type(key) is slice else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, tuple(self) + other)

    def __radd__(self, other):  # (1,) + size is a Size too, as in PyTorch
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, other + tuple(self))

    def __mul__(self, times):
        return tuple.__new__(Size, tuple(self) * times)

    __rmul__ = __mul__

    def numel(self) -> int:
        """The number of elements of a tensor of this shape (1 for ``Size([])``)."""
        count = 1
        for s in self:
            count *= s
        return count
