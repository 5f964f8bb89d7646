"""Shared pieces of the audio datasets: where a missing dataset comes from (a local archive
is extracted; nothing is downloaded) and loading a clip at its expected rate."""

from __future__ import annotations

import os
import tarfile

from .._wav import load


def prepare(name: str, folder: str, archive: str, download: bool, extract_to=None) -> None:
    """Make sure ``folder`` exists: with ``download=True`` an archive already at ``archive``
    is extracted into ``extract_to`` (default: the archive's folder); minigrad never fetches datasets over the network, so a missing
    archive raises, saying where to put the files."""
    if os.path.isdir(folder):
        return
    if download and os.path.isfile(archive):
        with tarfile.open(archive) as tar:
            tar.extractall(extract_to or os.path.dirname(archive), filter="data")
        if os.path.isdir(folder):
            return
    if download:
        raise RuntimeError(
            f"{name}(download=True): downloading is not implemented in minigrad.audio; "
            f"put the archive at {archive} (it is extracted) or the extracted files in {folder}"
        )
    raise RuntimeError(
        f"The path {folder} doesn't exist. Please check the ``root`` path or set "
        "`download=True` to download it"
    )


def load_waveform(root: str, filename: str, expected_rate: int):
    """The waveform of ``root/filename``, checking its sample rate."""
    waveform, sample_rate = load(os.path.join(root, filename))
    if sample_rate != expected_rate:
        raise ValueError(f"sample rate should be {expected_rate}, but got {sample_rate}")
    return waveform
