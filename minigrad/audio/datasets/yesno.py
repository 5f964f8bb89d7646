"""torchaudio.datasets.YESNO over a local copy of the OpenSLR "yes/no" recordings:
``root/waves_yesno/0_1_0_0_1_0_1_1.wav`` (the name is the eight labels)."""

from __future__ import annotations

import os
from pathlib import Path

from minigrad.utils.data import Dataset

from .._wav import load
from .utils import prepare


class YESNO(Dataset):
    """Items ``(waveform (1, time), sample_rate, labels)`` with ``labels`` the eight 0/1 ints
    of the file name. ``download=True`` extracts ``root/waves_yesno.tar.gz`` if present."""

    def __init__(self, root, url: str = "http://www.openslr.org/resources/1/waves_yesno.tar.gz",
                 folder_in_archive: str = "waves_yesno", download: bool = False):  # fmt: skip
        root = Path(root)
        self._path = root / folder_in_archive
        archive = root / os.path.basename(url)
        if not download and not os.path.isdir(self._path):
            raise RuntimeError("Dataset not found. Please use `download=True` to download it.")
        prepare("YESNO", str(self._path), str(archive), download)
        self._walker = sorted(str(p.stem) for p in Path(self._path).glob("*.wav"))

    def __getitem__(self, n: int):
        fileid = self._walker[n]
        waveform, sample_rate = load(os.path.join(self._path, fileid + ".wav"))
        return waveform, sample_rate, [int(c) for c in fileid.split("_")]

    def __len__(self) -> int:
        return len(self._walker)
