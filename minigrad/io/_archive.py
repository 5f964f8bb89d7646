"""Reading zip archives with bounded memory: the checks both zip readers (minigrad, PyTorch) share.

A zip member declares its uncompressed size; :mod:`zipfile` never inflates past it, so bounding
that number before a member is opened bounds every allocation. The helpers here check each
declared size against what the archive can hold (a stored member holds its bytes; DEFLATE
cannot expand more than 1032:1) and against what the caller expects, refuse duplicate member
names (which zip readers resolve differently), and copy array data into a preallocated buffer
in 256 KiB chunks, so that reading never holds a second copy.
"""

from __future__ import annotations

import os
import zipfile
import zlib

import numpy as np

# DEFLATE's largest possible expansion is 1032:1 (a run of 258-byte matches, 2 bits each).
_DEFLATE_RATIO = 1032
_CHUNK = 1 << 18
# npy headers are at most 10 kB by default in NumPy; the magic and length add 12 bytes.
MAX_NPY_HEADER = 10_000 + 12
ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)


class ArchiveError(RuntimeError):
    """A member is missing, oversized, duplicated or unreadable (the message says which)."""


def archive_size(fh) -> int:
    """The number of bytes in the seekable file ``fh`` (its position is kept)."""
    here = fh.tell()
    try:
        return fh.seek(0, os.SEEK_END)
    finally:
        fh.seek(here)


def check_unique(zf: zipfile.ZipFile) -> None:
    """Refuse an archive that holds two members with one name."""
    seen: set[str] = set()
    for info in zf.infolist():
        if info.filename in seen:
            raise ArchiveError(f"the archive has two members named {info.filename!r}")
        seen.add(info.filename)


def capacity(info: zipfile.ZipInfo) -> int:
    """The most bytes member ``info`` can really hold, whatever its header declares."""
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size
    if info.compress_type == zipfile.ZIP_DEFLATED:
        return info.compress_size * _DEFLATE_RATIO + 64
    raise ArchiveError(
        f"{info.filename} uses compression method {info.compress_type}; only stored and "
        f"DEFLATE members are read"
    )


def check_member(info: zipfile.ZipInfo, limit: int, what: str) -> None:
    """Refuse a member whose declared size exceeds ``limit`` or what its bytes can hold."""
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise ArchiveError(
            f"{info.filename} is stored uncompressed but declares {info.file_size} bytes in "
            f"{info.compress_size}"
        )
    if info.file_size > limit:
        raise ArchiveError(
            f"{info.filename} declares {info.file_size} bytes, more than {what} allows ({limit})"
        )
    if info.file_size > capacity(info):
        raise ArchiveError(
            f"{info.filename} declares {info.file_size} bytes, but its {info.compress_size} "
            f"bytes in the file cannot hold that"
        )


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, what: str) -> bytes:
    """All bytes of a member whose declared size is at most ``limit`` (checked first)."""
    check_member(info, limit, what)
    with zf.open(info) as fp:
        data = fp.read(info.file_size)
        if len(data) != info.file_size or fp.read(1):  # reaching the end checks the CRC
            raise ArchiveError(f"{info.filename} is shorter or longer than it declares")
    return data


def read_into(fp, out: np.ndarray, member: str) -> None:
    """Fill the contiguous array ``out`` from ``fp`` in 256 KiB chunks (no second full copy)."""
    view = memoryview(out.reshape(-1).view(np.uint8))
    pos, end = 0, len(view)
    while pos < end:
        chunk = fp.read(min(_CHUNK, end - pos))
        if not chunk:
            raise ArchiveError(f"{member} ends after {pos} of {end} data bytes")
        view[pos : pos + len(chunk)] = chunk
        pos += len(chunk)


def read_npy_header(fp, member: str) -> tuple[tuple, bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` of the ``.npy`` stream ``fp``, refusing object arrays."""
    version = np.lib.format.read_magic(fp)
    reader = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    shape, fortran, dtype = reader(fp)
    if dtype.hasobject:
        raise ArchiveError(f"{member} holds Python objects, which are never unpickled")
    return tuple(shape), bool(fortran), dtype


def nbytes(shape, dtype: np.dtype) -> int:
    """Bytes of an array, computed in Python integers (no overflow for absurd shapes)."""
    n = int(dtype.itemsize)
    for s in shape:
        if not isinstance(s, int) or s < 0:
            raise ArchiveError(f"invalid array shape {list(shape)}")
        n *= s
    return n
