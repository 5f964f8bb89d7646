"""``torch.PyTorchFileReader``: the records of a ``torch.save`` zip archive by name, as PyTorch's
C++ reader gives them (``data.pkl``, ``data/0``, ``byteorder``, without the archive's top-level
folder). Libraries read a checkpoint's pickle through it to load tensors lazily (Lightning's
``_lazy_load``). ``get_storage_from_record`` (a storage over a record's bytes) is not here."""

from __future__ import annotations

import os
import zipfile

from . import _archive

__all__ = ["PyTorchFileReader"]

_MISSING = (
    "PytorchStreamReader failed locating file {}: file not found. This is an internal miniz "
    "error. If you are seeing this error, there is a high likelihood that your checkpoint file "
    "is corrupted."
)


class PyTorchFileReader:
    """Reads the records of the zip archive at the path (or in the binary file object)
    ``file``: every member sits in one top-level folder, whose name records leave out."""

    def __init__(self, file) -> None:
        if isinstance(file, (str, os.PathLike)) and not os.path.isfile(file):
            raise RuntimeError(
                f"open file failed because of errno 2 on fopen: No such file or directory, "
                f"file path: {os.fspath(file)}"
            )
        try:
            self._zip = zipfile.ZipFile(file)
            _archive.check_unique(self._zip)
        except (_archive.ArchiveError, *_archive.ERRORS) as e:
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {e}") from None
        names = self._zip.namelist()
        folder = names[0].partition("/")[0] if names and "/" in names[0] else ""
        if not folder or any(not n.startswith(folder + "/") for n in names):
            raise RuntimeError(
                "PytorchStreamReader failed reading zip archive: not one top-level folder"
            )
        self._prefix = folder + "/"

    def get_all_records(self) -> list[str]:
        """The record names, in the archive's order."""
        return [n[len(self._prefix) :] for n in self._zip.namelist() if not n.endswith("/")]

    def has_record(self, name: str) -> bool:
        return self._prefix + name in self._zip.NameToInfo

    def get_record(self, name: str) -> bytes:
        """The bytes of the record ``name`` (RuntimeError where there is none)."""
        info = self._zip.NameToInfo.get(self._prefix + name)
        if info is None:
            raise RuntimeError(_MISSING.format(name))
        return _archive.read_member(self._zip, info, info.file_size, "its size")

    def serialization_id(self) -> str:
        """The archive's ``.data/serialization_id`` record, or "" where it has none."""
        if not self.has_record(".data/serialization_id"):
            return ""
        return self.get_record(".data/serialization_id").decode()

    def get_storage_from_record(self, name: str, numel: int, dtype):
        raise NotImplementedError(
            "PyTorchFileReader.get_storage_from_record: storages over a record's bytes are not "
            "supported by minigrad; load the checkpoint with torch.load"
        )
