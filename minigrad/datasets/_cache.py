"""The dataset cache: where downloads go, fetching from mirrors, and SHA-256 checks."""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
import uuid
from pathlib import Path

__all__ = ["data_home", "download_url", "fetch", "sha256sum"]

_TIMEOUT_S = 30


def data_home(root: str | os.PathLike | None = None) -> Path:
    """The folder datasets are cached in.

    Args:
        root: an explicit folder; when None, ``$MINIGRAD_HOME`` if set, else
            ``~/.cache/minigrad``.

    Returns:
        The folder as a :class:`~pathlib.Path` (not created here).
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("MINIGRAD_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "minigrad"


def sha256sum(path: str | os.PathLike) -> str:
    """The hex SHA-256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_url(url: str, dest: Path) -> None:
    """Download ``url`` to ``dest`` (a temporary file renamed into place when complete).

    Tests replace this function (``monkeypatch.setattr``) so that they never touch the network.

    Raises:
        OSError: the download failed (``urllib.error.URLError`` is an ``OSError``).
    """
    part = dest.with_name(f"{dest.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response, open(part, "wb") as fh:
            shutil.copyfileobj(response, fh)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


def fetch(filename: str, sha256: str, folder: Path, mirrors: list[str], download: bool) -> Path:
    """The verified file ``folder/filename``, downloaded from ``mirrors`` first if needed.

    Args:
        filename: the file's name on the mirrors and in the cache.
        sha256: its expected hex SHA-256 digest.
        folder: the cache folder (created when downloading).
        mirrors: base URLs tried in order (each ends with ``/``).
        download: whether a missing file may be downloaded.

    Returns:
        The path of the file, whose digest matches ``sha256``.

    Raises:
        FileNotFoundError: the file is missing and ``download`` is False.
        RuntimeError: every mirror failed (offline?), or the file's digest is wrong.
    """
    path = folder / filename
    if not path.exists():
        if not download:
            raise FileNotFoundError(
                f"{path} not found: pass download=True to fetch it, or copy the file there"
            )
        _download_from_mirrors(filename, path, mirrors)
    actual = sha256sum(path)
    if actual != sha256:
        raise RuntimeError(
            f"{path} is corrupted or not the expected file: SHA-256 {actual}, expected {sha256}. "
            "Delete it and download it again."
        )
    return path


def _download_from_mirrors(filename: str, path: Path, mirrors: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for base in mirrors:
        url = base + filename
        try:
            download_url(url, path)
            return
        except OSError as e:
            failures.append(f"{url}: {getattr(e, 'reason', None) or e}")
    tried = "; ".join(failures)
    raise RuntimeError(
        f"could not download {filename} from any mirror (no network connection?). Tried: "
        f"{tried}. Without a network, copy the file to {path} by hand."
    )
