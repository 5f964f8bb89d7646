"""``minigrad.torch_version``, as ``torch.torch_version``: :class:`TorchVersion`, the ``str``
subclass that ``minigrad.__version__`` is, comparable with version strings and tuples as
PyTorch's (``__version__ >= (2, 0)``, ``__version__ < "1.13"``) by PEP 440's order, and
:class:`Version`, the parsed PEP 440 version PyTorch vendors from ``packaging``."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

_PEP440 = re.compile(
    r"v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre>alpha|beta|preview|pre|rc|a|b|c)[-_.]?(?P<pre_n>\d*))?"
    r"(?:-(?P<implicit_post>\d+)|[-_.]?(?:post|rev|r)[-_.]?(?P<post>\d*))?"
    r"(?:[-_.]?dev[-_.]?(?P<dev>\d*))?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?",
    re.IGNORECASE,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
_PRE_NAME = ("a", "b", "rc")  # the normalized spelling of each rank


class InvalidVersion(ValueError):  # noqa: N818 - packaging.version's name
    """A string that is no PEP 440 version (PyTorch's ``packaging.version.InvalidVersion``)."""


def _parse(text: str) -> tuple:
    """``(epoch, release, pre, post, dev, local)`` of ``text``, normalized as
    ``packaging.version.Version`` keeps them: ``pre`` is None or ``("a" | "b" | "rc", n)``,
    ``post``/``dev`` None or a number, ``local`` None or its parts joined by dots."""
    m = _PEP440.fullmatch(text.strip())
    if m is None:
        raise InvalidVersion(f"Invalid version: {text!r}")
    release = tuple(int(part) for part in m["release"].split("."))
    pre = None
    if m["pre"] is not None:
        pre = (_PRE_NAME[_PRE_RANK[m["pre"].lower()]], int(m["pre_n"] or 0))
    post = None
    if m["implicit_post"] is not None or m["post"] is not None:
        post = int(m["implicit_post"] or m["post"] or 0)
    dev = None if m["dev"] is None else int(m["dev"] or 0)
    local = None if m["local"] is None else ".".join(re.split(r"[-_.]", m["local"].lower()))
    return int(m["epoch"] or 0), release, pre, post, dev, local


def _key(text: str) -> tuple:
    """PEP 440's sort key of ``text`` (``packaging.version.Version``'s order): the epoch, the
    release without trailing zeros, then pre-, post- and dev-releases, then the local label."""
    epoch, release, pre, post, dev, local = _parse(text)
    release = list(release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    if pre is not None:
        pre_key = (_PRE_NAME.index(pre[0]), pre[1])
    elif post is None and dev is not None:
        pre_key = (-1, 0)  # 1.0.dev0 comes before 1.0a0
    else:
        pre_key = (3, 0)  # a final release comes after its pre-releases
    local_key = ()
    if local is not None:  # numbers sort after words, as PEP 440 says
        parts = local.split(".")
        local_key = tuple((1, int(p), "") if p.isdigit() else (0, 0, p) for p in parts)
    dev_key = sys.maxsize if dev is None else dev
    post_key = -1 if post is None else post
    return epoch, tuple(release), pre_key, post_key, dev_key, local_key


def _as_key(other) -> tuple:
    if isinstance(other, str):
        return _key(other)
    if isinstance(other, Iterable):  # (2, 0) is "2.0"
        return _key(".".join(str(item) for item in other))
    raise InvalidVersion(f"Invalid version: {other!r}")


class TorchVersion(str):
    """A version string that compares as a version with strings and tuples, as PyTorch's
    ``torch.__version__``: ``"0.10.0" > "0.9"``, ``>= (2, 0)``; a string that is no version
    (``"parrot"``) compares as a string, as there.

    Example:
        >>> TorchVersion("2.1.0") >= (2, 0), TorchVersion("1.13.0") < "1.9"
        (True, False)
    """

    __hash__ = str.__hash__

    def _compare(self, other, method: str):
        try:
            return getattr(_key(self), method)(_as_key(other))
        except InvalidVersion:
            return getattr(str, method)(self, other)

    def __gt__(self, other):
        return self._compare(other, "__gt__")

    def __lt__(self, other):
        return self._compare(other, "__lt__")

    def __ge__(self, other):
        return self._compare(other, "__ge__")

    def __le__(self, other):
        return self._compare(other, "__le__")

    def __eq__(self, other):
        return self._compare(other, "__eq__")


class Version:
    """A PEP 440 version, parsed and normalized, that sorts as PEP 440 says: PyTorch's
    ``torch.torch_version.Version`` (``packaging.version.Version``, vendored there).

    Example:
        >>> Version("1.0a5") < Version("1.0"), Version("1!2.0.0.post0").release
        (True, (2, 0, 0))
    """

    def __init__(self, version: str) -> None:
        parts = _parse(version)
        self._epoch, self._release, self._pre, self._post, self._dev, self._local = parts
        self._key = _key(version)

    @property
    def epoch(self) -> int:
        """The epoch (``1`` of ``1!2.0``; 0 without one)."""
        return self._epoch

    @property
    def release(self) -> tuple:
        """The release numbers, trailing zeros kept: ``(1, 2, 3)``."""
        return self._release

    @property
    def pre(self) -> tuple | None:
        """``("a" | "b" | "rc", n)`` of a pre-release, else None."""
        return self._pre

    @property
    def post(self) -> int | None:
        """The post-release number, else None."""
        return self._post

    @property
    def dev(self) -> int | None:
        """The development-release number, else None."""
        return self._dev

    @property
    def local(self) -> str | None:
        """The local label after ``+`` (normalized: lower case, dots), else None."""
        return self._local

    @property
    def public(self) -> str:
        """The version without its local label."""
        return str(self).split("+", 1)[0]

    @property
    def base_version(self) -> str:
        """The epoch and release only: ``"1!1.2.3"``."""
        release = ".".join(str(n) for n in self._release)
        return f"{self._epoch}!{release}" if self._epoch else release

    @property
    def is_prerelease(self) -> bool:
        return self._dev is not None or self._pre is not None

    @property
    def is_postrelease(self) -> bool:
        return self._post is not None

    @property
    def is_devrelease(self) -> bool:
        return self._dev is not None

    @property
    def major(self) -> int:
        return self._release[0] if len(self._release) >= 1 else 0

    @property
    def minor(self) -> int:
        return self._release[1] if len(self._release) >= 2 else 0

    @property
    def micro(self) -> int:
        return self._release[2] if len(self._release) >= 3 else 0

    def __str__(self) -> str:
        text = self.base_version
        if self._pre is not None:
            text += f"{self._pre[0]}{self._pre[1]}"
        if self._post is not None:
            text += f".post{self._post}"
        if self._dev is not None:
            text += f".dev{self._dev}"
        return text if self._local is None else f"{text}+{self._local}"

    def __repr__(self) -> str:
        return f"<Version('{self}')>"

    def __hash__(self) -> int:
        return hash(self._key)

    def _compare(self, other, method: str):
        if not isinstance(other, Version):
            return NotImplemented
        return getattr(self._key, method)(other._key)

    def __lt__(self, other):
        return self._compare(other, "__lt__")

    def __le__(self, other):
        return self._compare(other, "__le__")

    def __eq__(self, other):
        return self._compare(other, "__eq__")

    def __ge__(self, other):
        return self._compare(other, "__ge__")

    def __gt__(self, other):
        return self._compare(other, "__gt__")

    def __ne__(self, other):
        return self._compare(other, "__ne__")


__all__ = ["InvalidVersion", "TorchVersion", "Version"]
