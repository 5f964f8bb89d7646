"""Reading and writing tensors, models and checkpoints, in minigrad's format and others.

- :func:`save` / :func:`load`: minigrad's own pickle-free checkpoints (:mod:`.checkpoint`);
  ``load`` also reads PyTorch checkpoints (:mod:`.pytorch`) and safetensors files.
- :func:`load_safetensors` / :func:`save_safetensors` (:mod:`.safetensors`), with metadata.
- :func:`load_pytorch`: a ``torch.save`` file, read without PyTorch and without running it.
- The allowlist of classes loading may build: :mod:`minigrad.serialization`.
"""

from .api import load, save
from .safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from .safetensors import load_metadata, load_safetensors, save_safetensors


def load_pytorch(f, map_location=None):
    """A ``torch.save`` file (zip or legacy format) as minigrad tensors, without PyTorch.

    The same as :func:`load` on such a file; it refuses other formats.

    Example:
        >>> model.load_state_dict(minigrad.io.load_pytorch("model.pt"))
    """
    from . import api, pytorch
    from ._files import describe, open_source

    name = describe(f)
    locate = api._location_mapper(map_location, name)
    with open_source(f) as (fh, size):
        start = fh.tell()
        head = fh.read(4)
        fh.seek(start)
        if head.startswith(b"\x80"):
            return pytorch.load_legacy(fh, name, size, locate)
        if not head.startswith(b"PK"):
            raise RuntimeError(f"{name} is not a PyTorch checkpoint (it starts with {head!r})")
        import zipfile

        with zipfile.ZipFile(fh) as zf:
            if not pytorch.is_pytorch_zip(zf.namelist()):
                raise RuntimeError(f"{name} is a zip archive but not a PyTorch checkpoint")
            return pytorch.load_zip(zf, name, locate)


__all__ = [
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "load",
    "load_metadata",
    "load_pytorch",
    "load_safetensors",
    "safe_globals",
    "save",
    "save_safetensors",
]
