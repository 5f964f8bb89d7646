"""A restricted unpickler: reads pickles of plain data without running code (``weights_only``).

Python's own unpickler calls whatever a pickle names, so unpickling an untrusted file runs its
code. This one interprets the pickle opcodes itself (as PyTorch's ``weights_only`` unpickler
does) and resolves every global through a ``find_class`` the caller supplies, which returns
only objects known to be safe (tensor rebuilders, ``OrderedDict``, allowlisted classes) and
raises :class:`pickle.UnpicklingError` for anything else. Memory stays bounded by the pickle's
size: the memo is a dict (a ``LONG_BINPUT`` of 2**32 allocates nothing), and lengths are
checked against the bytes that are there before they are read.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import io
import pickle
import struct
from collections import OrderedDict

__all__ = ["PY2_MODULES", "RestrictedUnpickler", "py2_strings"]

# How the 8-bit strings of Python 2 pickles (STRING, BINSTRING, SHORT_BINSTRING) are decoded:
# (encoding, errors), as ``torch.load(f, encoding=...)`` passes them to its unpickler; the
# encoding "bytes" keeps them as bytes. Set for one load by :func:`py2_strings`.
_PY2_STRINGS = contextvars.ContextVar("py2_strings", default=("utf-8", "strict"))


@contextlib.contextmanager
def py2_strings(encoding: str = "utf-8", errors: str = "strict"):
    """Decode Python 2 strings with ``encoding`` and ``errors`` in the unpicklers made inside."""
    token = _PY2_STRINGS.set((encoding, errors))
    try:
        yield
    finally:
        _PY2_STRINGS.reset(token)


class _Mark:
    """The MARK pseudo-object on the stack."""


_MARK = _Mark()
PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}


class RestrictedUnpickler:
    """Unpickle ``data`` (protocols 0-5) building only what ``find_class`` allows.

    Args:
        fh: a binary file object positioned at the start of a pickle.
        find_class: ``(module, name) -> object``; raises ``pickle.UnpicklingError`` to refuse.
        persistent_load: ``(pid) -> object`` for ``PERSID``/``BINPERSID`` (PyTorch's storages);
            None refuses persistent ids.
        limit: the most bytes a single string or bytes value may have (the caller passes the
            bytes left in the file).

    Callables from ``find_class`` are the only things ``REDUCE``/``NEWOBJ`` call, and ``BUILD``
    only sets the state of objects those created (or of an ``OrderedDict``).
    """

    def __init__(self, fh, find_class, persistent_load=None, limit: int = 1 << 62):
        self.fh, self.find_class, self.persistent_load = fh, find_class, persistent_load
        self.limit = limit
        self.built: set[int] = set()  # ids of objects made by allowed callables
        self.encoding, self.errors = _PY2_STRINGS.get()

    def read(self, n: int) -> bytes:
        if n < 0 or n > self.limit:
            raise pickle.UnpicklingError(f"a pickle value declares {n} bytes, more than the file")
        data = self.fh.read(n)
        if len(data) != n:
            raise pickle.UnpicklingError("the pickle is truncated")
        return data

    def readline(self) -> bytes:
        line = self.fh.readline(1 << 16)
        if not line.endswith(b"\n"):
            raise pickle.UnpicklingError("the pickle is truncated (a text line has no end)")
        return line[:-1]

    def load(self):
        """The unpickled object; reads up to and including the STOP opcode."""
        self.stack: list = []
        self.metastack: list = []
        self.memo: dict = {}
        while True:
            op = self.read(1)
            if op == pickle.STOP:
                if len(self.stack) != 1 or self.metastack:
                    raise pickle.UnpicklingError("the pickle ends with a malformed stack")
                return self.stack.pop()
            handler = _DISPATCH.get(op)
            if handler is None:
                raise pickle.UnpicklingError(
                    f"unsupported pickle opcode {op!r} at byte {self.fh.tell() - 1} (the "
                    f"restricted reader reads plain data only)"
                )
            try:
                handler(self)
            except (IndexError, KeyError, TypeError, ValueError, struct.error) as e:
                raise pickle.UnpicklingError(f"malformed pickle ({type(e).__name__}: {e})") from e

    # -- helpers ------------------------------------------------------------------------------
    def pop_mark(self) -> list:
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def call(self, func, args):
        if not callable(func):
            raise pickle.UnpicklingError(f"the pickle calls {func!r}, which is not callable")
        obj = func(*args)
        self.built.add(id(obj))
        return obj

    def build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, OrderedDict) and isinstance(state, dict):
            for k, v in state.items():  # a state_dict's _metadata
                if not isinstance(k, str):
                    raise pickle.UnpicklingError("an OrderedDict's state has a non-string key")
                setattr(inst, k, v)
            return
        if id(inst) not in self.built:
            raise pickle.UnpicklingError(
                f"the pickle sets the state of a {type(inst).__name__}, which it did not build "
                f"through an allowed global"
            )
        setstate = getattr(inst, "__setstate__", None)
        if setstate is not None:
            setstate(state)
            return
        slots = None
        if isinstance(state, tuple) and len(state) == 2:
            state, slots = state
        if state:
            inst.__dict__.update(state)
        for k, v in (slots or {}).items():
            setattr(inst, k, v)

    def global_(self, module: str, name: str):
        # Protocols 0-2 spell Python 3's modules as Python 2's (pickle's fix_imports).
        return self.find_class(PY2_MODULES.get(module, module), name)

    def text_global(self) -> None:
        module = self.readline().decode("utf-8")
        name = self.readline().decode("utf-8")
        self.stack.append(self.global_(module, name))

    def stack_global(self) -> None:
        name = self.stack.pop()
        module = self.stack.pop()
        if not isinstance(module, str) or not isinstance(name, str):
            raise pickle.UnpicklingError("STACK_GLOBAL needs two strings")
        self.stack.append(self.global_(module, name))

    def persid(self, pid) -> None:
        if self.persistent_load is None:
            raise pickle.UnpicklingError("the pickle refers to external data (persistent ids)")
        self.stack.append(self.persistent_load(pid))


def _append_items(u: RestrictedUnpickler) -> None:
    items = u.pop_mark()
    target = u.stack[-1]
    if not isinstance(target, list):
        raise pickle.UnpicklingError(f"APPENDS to a {type(target).__name__}")
    target.extend(items)


def _set_items(u: RestrictedUnpickler) -> None:
    items = u.pop_mark()
    target = u.stack[-1]
    if not isinstance(target, dict):
        raise pickle.UnpicklingError(f"SETITEMS on a {type(target).__name__}")
    for i in range(0, len(items) - 1, 2):
        target[items[i]] = items[i + 1]


def _set_item(u: RestrictedUnpickler) -> None:
    value, key = u.stack.pop(), u.stack.pop()
    if not isinstance(u.stack[-1], dict):
        raise pickle.UnpicklingError(f"SETITEM on a {type(u.stack[-1]).__name__}")
    u.stack[-1][key] = value


def _append(u: RestrictedUnpickler) -> None:
    value = u.stack.pop()
    if not isinstance(u.stack[-1], list):
        raise pickle.UnpicklingError(f"APPEND to a {type(u.stack[-1]).__name__}")
    u.stack[-1].append(value)


def _add_items(u: RestrictedUnpickler) -> None:
    items = u.pop_mark()
    if not isinstance(u.stack[-1], set):
        raise pickle.UnpicklingError(f"ADDITEMS to a {type(u.stack[-1]).__name__}")
    u.stack[-1].update(items)


def _reduce(u: RestrictedUnpickler) -> None:
    args = u.stack.pop()
    func = u.stack.pop()
    if not isinstance(args, tuple):
        raise pickle.UnpicklingError("REDUCE needs a tuple of arguments")
    u.stack.append(u.call(func, args))


def _newobj(u: RestrictedUnpickler) -> None:
    args = u.stack.pop()
    cls = u.stack.pop()
    if not isinstance(cls, type) or not isinstance(args, tuple):
        raise pickle.UnpicklingError("NEWOBJ needs an allowed class and a tuple")
    u.stack.append(u.call(cls.__new__, (cls, *args)))


def _newobj_ex(u: RestrictedUnpickler) -> None:
    kwargs = u.stack.pop()
    args = u.stack.pop()
    cls = u.stack.pop()
    if not isinstance(cls, type) or not isinstance(args, tuple) or not isinstance(kwargs, dict):
        raise pickle.UnpicklingError("NEWOBJ_EX needs an allowed class, a tuple and a dict")
    obj = cls.__new__(cls, *args, **kwargs)
    u.built.add(id(obj))
    u.stack.append(obj)


def _push_marked(u: RestrictedUnpickler, make) -> None:
    # pop_mark() replaces u.stack, so it must run before u.stack.append is looked up
    value = make(u.pop_mark())
    u.stack.append(value)


def _memo_put(u: RestrictedUnpickler, key) -> None:
    u.memo[key] = u.stack[-1]


def _string(u: RestrictedUnpickler, fmt: str) -> str:
    return u.read(u.unpack(fmt)).decode("utf-8", "surrogatepass")


def _py2_string(u: RestrictedUnpickler, data: bytes):
    """A Python 2 ``str`` (8-bit) as the load's encoding gives it (bytes for "bytes")."""
    return data if u.encoding == "bytes" else data.decode(u.encoding, u.errors)


def _text_string(u: RestrictedUnpickler):
    """The quoted bytes literal of protocol 0's STRING opcode (``'abc'``, ``"\\xe9"``)."""
    line = u.readline()
    if len(line) < 2 or line[0] != line[-1] or line[:1] not in (b"'", b'"'):
        raise pickle.UnpicklingError("the STRING opcode argument must be quoted")
    return _py2_string(u, ast.literal_eval("b" + line.decode("latin-1")))


def _frame(u: RestrictedUnpickler) -> None:
    u.unpack("<Q")  # frames only group opcodes; the bytes are read as they come


def _text_int(u: RestrictedUnpickler):
    line = u.readline()
    if line in (b"00", b"01"):
        return line == b"01"
    return int(line.rstrip(b"L"), 0)


_DISPATCH = {
    pickle.PROTO: lambda u: u.read(1),
    pickle.FRAME: _frame,
    pickle.MARK: lambda u: (u.metastack.append(u.stack), setattr(u, "stack", [])),
    pickle.POP: lambda u: u.stack.pop() if u.stack else u.pop_mark(),
    pickle.POP_MARK: lambda u: u.pop_mark(),
    pickle.DUP: lambda u: u.stack.append(u.stack[-1]),
    pickle.NONE: lambda u: u.stack.append(None),
    pickle.NEWTRUE: lambda u: u.stack.append(True),
    pickle.NEWFALSE: lambda u: u.stack.append(False),
    pickle.INT: lambda u: u.stack.append(_text_int(u)),
    pickle.LONG: lambda u: u.stack.append(int(u.readline().rstrip(b"L"), 0)),
    pickle.BININT: lambda u: u.stack.append(u.unpack("<i")),
    pickle.BININT1: lambda u: u.stack.append(u.unpack("<B")),
    pickle.BININT2: lambda u: u.stack.append(u.unpack("<H")),
    pickle.LONG1: lambda u: u.stack.append(
        int.from_bytes(u.read(u.unpack("<B")), "little", signed=True)
    ),
    pickle.LONG4: lambda u: u.stack.append(
        int.from_bytes(u.read(u.unpack("<i")), "little", signed=True)
    ),
    pickle.FLOAT: lambda u: u.stack.append(float(u.readline())),
    pickle.BINFLOAT: lambda u: u.stack.append(u.unpack(">d")),
    pickle.BINUNICODE: lambda u: u.stack.append(_string(u, "<I")),
    pickle.SHORT_BINUNICODE: lambda u: u.stack.append(_string(u, "<B")),
    pickle.BINUNICODE8: lambda u: u.stack.append(_string(u, "<Q")),
    pickle.UNICODE: lambda u: u.stack.append(u.readline().decode("raw-unicode-escape")),
    pickle.STRING: lambda u: u.stack.append(_text_string(u)),
    pickle.BINSTRING: lambda u: u.stack.append(_py2_string(u, u.read(u.unpack("<i")))),
    pickle.SHORT_BINSTRING: lambda u: u.stack.append(_py2_string(u, u.read(u.unpack("<B")))),
    pickle.SHORT_BINBYTES: lambda u: u.stack.append(u.read(u.unpack("<B"))),
    pickle.BINBYTES: lambda u: u.stack.append(u.read(u.unpack("<I"))),
    pickle.BINBYTES8: lambda u: u.stack.append(u.read(u.unpack("<Q"))),
    pickle.BYTEARRAY8: lambda u: u.stack.append(bytearray(u.read(u.unpack("<Q")))),
    pickle.EMPTY_DICT: lambda u: u.stack.append({}),
    pickle.EMPTY_LIST: lambda u: u.stack.append([]),
    pickle.EMPTY_TUPLE: lambda u: u.stack.append(()),
    pickle.EMPTY_SET: lambda u: u.stack.append(set()),
    pickle.DICT: lambda u: _push_marked(u, lambda items: dict(zip(*[iter(items)] * 2))),
    pickle.LIST: lambda u: _push_marked(u, list),
    pickle.TUPLE: lambda u: _push_marked(u, tuple),
    pickle.TUPLE1: lambda u: u.stack.append((u.stack.pop(),)),
    pickle.TUPLE2: lambda u: u.stack.append(tuple(reversed([u.stack.pop(), u.stack.pop()]))),
    pickle.TUPLE3: lambda u: u.stack.append(
        tuple(reversed([u.stack.pop(), u.stack.pop(), u.stack.pop()]))
    ),
    pickle.FROZENSET: lambda u: _push_marked(u, frozenset),
    pickle.APPEND: _append,
    pickle.APPENDS: _append_items,
    pickle.SETITEM: _set_item,
    pickle.SETITEMS: _set_items,
    pickle.ADDITEMS: _add_items,
    pickle.PUT: lambda u: _memo_put(u, int(u.readline())),
    pickle.BINPUT: lambda u: _memo_put(u, u.unpack("<B")),
    pickle.LONG_BINPUT: lambda u: _memo_put(u, u.unpack("<I")),
    pickle.MEMOIZE: lambda u: _memo_put(u, len(u.memo)),
    pickle.GET: lambda u: u.stack.append(u.memo[int(u.readline())]),
    pickle.BINGET: lambda u: u.stack.append(u.memo[u.unpack("<B")]),
    pickle.LONG_BINGET: lambda u: u.stack.append(u.memo[u.unpack("<I")]),
    pickle.GLOBAL: RestrictedUnpickler.text_global,
    pickle.STACK_GLOBAL: RestrictedUnpickler.stack_global,
    pickle.REDUCE: _reduce,
    pickle.NEWOBJ: _newobj,
    pickle.NEWOBJ_EX: _newobj_ex,
    pickle.BUILD: RestrictedUnpickler.build,
    pickle.PERSID: lambda u: u.persid(u.readline().decode("ascii")),
    pickle.BINPERSID: lambda u: u.persid(u.stack.pop()),
}


def loads(data: bytes, find_class, persistent_load=None):
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (a convenience for tests)."""
    return RestrictedUnpickler(io.BytesIO(data), find_class, persistent_load, len(data)).load()
