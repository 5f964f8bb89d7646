"""``minigrad.hub``: pretrained weights by URL, as ``torch.hub``.

:func:`load_state_dict_from_url` downloads a checkpoint once into ``<hub dir>/checkpoints``
and loads it with :func:`minigrad.load` (which reads ``torch.save`` files without running
anything in them). The hub directory is PyTorch's (``$TORCH_HOME/hub``, default
``~/.cache/torch/hub``), so weights PyTorch already downloaded are found and not fetched again.
``load``/``list``/``help`` take a local directory with a ``hubconf.py`` (``source="local"``);
fetching repositories from GitHub (their default source) raises ``NotImplementedError``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import urllib.parse
import urllib.request
from urllib.error import HTTPError, URLError  # noqa: F401  (torch.hub's names, imported from it)
from urllib.parse import urlparse  # noqa: F401
from urllib.request import urlopen  # noqa: F401

HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")  # the sha256 prefix in names like resnet18-f37072fd.pth
_hub_dir = None


def get_dir() -> str:
    """Where downloads go: set by :func:`set_dir`, else ``$TORCH_HOME/hub``, else
    ``$XDG_CACHE_HOME/torch/hub`` or ``~/.cache/torch/hub``."""
    if _hub_dir is not None:
        return _hub_dir
    cache = os.getenv("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
    return os.path.join(os.getenv("TORCH_HOME", os.path.join(cache, "torch")), "hub")


def set_dir(d) -> None:
    """Use ``d`` as the hub directory from now on."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None, progress=True):
    """Copy ``url`` to ``dst`` through a temporary file in the same folder, renamed into place
    only when complete, and, with ``hash_prefix``, only when the file's SHA-256 starts with it.
    ``progress`` is accepted for PyTorch's signature; nothing is printed.
    """
    dst = os.path.expanduser(dst)
    folder = os.path.dirname(os.path.abspath(dst))
    sha256 = hashlib.sha256()
    with tempfile.NamedTemporaryFile(delete=False, dir=folder, suffix=".partial") as tmp:
        try:
            with urllib.request.urlopen(url) as response:
                while chunk := response.read(1 << 16):
                    tmp.write(chunk)
                    sha256.update(chunk)
            tmp.close()
            digest = sha256.hexdigest()
            if hash_prefix is not None and not digest.startswith(hash_prefix):
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
            shutil.move(tmp.name, dst)
        finally:
            tmp.close()
            if os.path.exists(tmp.name):
                os.remove(tmp.name)


def load_state_dict_from_url(
    url: str,
    model_dir: str | None = None,
    map_location=None,
    progress: bool = True,
    check_hash: bool = False,
    file_name: str | None = None,
    weights_only: bool = False,
) -> dict:
    """The object saved at ``url`` (usually a state dict), downloaded once into ``model_dir``
    (default ``<hub dir>/checkpoints``) and read from there afterwards.

    ``check_hash`` compares the download's SHA-256 with the hex prefix in its file name
    (``name-<prefix>.ext``), as PyTorch's model zoo names files.

    Example::

        >>> state = minigrad.hub.load_state_dict_from_url("https://example.com/net-1a2b3c4d.pth")
        >>> model.load_state_dict(state)
    """
    model_dir = model_dir if model_dir is not None else os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    name = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    cached = os.path.join(model_dir, name)
    if not os.path.exists(cached):
        sys.stderr.write(f'Downloading: "{url}" to {cached}\n')
        match = HASH_REGEX.search(name) if check_hash else None
        download_url_to_file(url, cached, match.group(1) if match else None, progress)
    from . import io

    return io.load(cached, map_location=map_location, weights_only=weights_only)


def _hubconf(repo_or_dir: str, source: str):
    if source != "local":
        raise NotImplementedError(
            f"hub: source={source!r} (fetching a repository) is not implemented in minigrad; "
            f"clone it and pass its folder with source='local'"
        )
    path = os.path.join(repo_or_dir, "hubconf.py")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"hub: no hubconf.py in {repo_or_dir!r}")
    spec = importlib.util.spec_from_file_location("hubconf", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, repo_or_dir)  # hubconf imports its repository's modules
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(repo_or_dir)
    return module


def _entrypoints(module) -> list:
    return [n for n, f in vars(module).items() if callable(f) and not n.startswith("_")]


def _entrypoint(module, model: str):
    if model not in _entrypoints(module):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return getattr(module, model)


def list(github, force_reload=False, skip_validation=False, trust_repo="check", verbose=True,
         source="github"):  # fmt: skip
    """The entry points of a ``hubconf.py`` (its public callables)."""
    return _entrypoints(_hubconf(github, source))


def help(github, model, force_reload=False, skip_validation=False, trust_repo="check",
         source="github"):  # fmt: skip
    """The docstring of the entry point ``model``."""
    return _entrypoint(_hubconf(github, source), model).__doc__


def load(repo_or_dir, model, *args, source="github", trust_repo="check", force_reload=False,
         verbose=True, skip_validation=False, **kwargs):  # fmt: skip
    """``model(*args, **kwargs)`` from the ``hubconf.py`` of the folder ``repo_or_dir``
    (``source="local"``; a GitHub repository raises ``NotImplementedError``)."""
    return _entrypoint(_hubconf(repo_or_dir, source), model)(*args, **kwargs)
