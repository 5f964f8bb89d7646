"""``minigrad.torch_version``, as ``torch.torch_version``: :class:`TorchVersion`, the ``str``
subclass that ``minigrad.__version__`` is, comparable with version strings and tuples as
PyTorch's (``__version__ >= (2, 0)``, ``__version__ < "1.13"``) by PEP 440's order."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

_PEP440 = re.compile(
    r"v?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre>alpha|beta|preview|pre|rc|a|b|c)[-_.]?(?P<pre_n>\d*))?"
    r"(?:-(?P<implicit_post>\d+)|[-_.]?(?:post|rev|r)[-_.]?(?P<post>\d*))?"
    r"(?:[-_.]?dev[-_.]?(?P<dev>\d*))?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?",
    re.IGNORECASE,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}


class InvalidVersion(ValueError):  # noqa: N818 - packaging.version's name
    """A string that is no PEP 440 version (PyTorch's ``packaging.version.InvalidVersion``)."""


def _key(text: str) -> tuple:
    """PEP 440's sort key of ``text`` (``packaging.version.Version``'s order): the release
    without trailing zeros, then pre-, post- and dev-releases, then the local label."""
    m = _PEP440.fullmatch(text.strip())
    if m is None:
        raise InvalidVersion(f"Invalid version: {text!r}")
    release = [int(part) for part in m["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    post = m["implicit_post"] or m["post"]
    has_post = m["implicit_post"] is not None or m["post"] is not None
    if m["pre"] is not None:
        pre = (_PRE_RANK[m["pre"].lower()], int(m["pre_n"] or 0))
    elif not has_post and m["dev"] is not None:
        pre = (-1, 0)  # 1.0.dev0 comes before 1.0a0
    else:
        pre = (3, 0)  # a final release comes after its pre-releases
    local = ()
    if m["local"] is not None:  # numbers sort after words, as PEP 440 says
        parts = re.split(r"[-_.]", m["local"].lower())
        local = tuple((1, int(p), "") if p.isdigit() else (0, 0, p) for p in parts)
    dev = sys.maxsize if m["dev"] is None else int(m["dev"] or 0)
    return tuple(release), pre, int(post or 0) if has_post else -1, dev, local


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


__all__ = ["TorchVersion"]
