"""torchaudio.datasets.LIBRISPEECH over a local copy:
``root/LibriSpeech/<split>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`` beside
``<speaker>-<chapter>.trans.txt``. The transcripts and metadata are read here; the FLAC audio
needs ``soundfile`` (``pip install soundfile``): minigrad.audio decodes only WAV itself."""

from __future__ import annotations

import os
from pathlib import Path

from minigrad.utils.data import Dataset

from .._wav import load
from .utils import prepare

SAMPLE_RATE = 16000
_SPLITS = ("dev-clean", "dev-other", "test-clean", "test-other", "train-clean-100",
           "train-clean-360", "train-other-500")  # fmt: skip


class LIBRISPEECH(Dataset):
    """Items ``(waveform, sample_rate, transcript, speaker_id, chapter_id, utterance_id)``."""

    _ext_txt = ".trans.txt"
    _ext_audio = ".flac"

    def __init__(self, root, url: str = "train-clean-100", folder_in_archive: str = "LibriSpeech",
                 download: bool = False):  # fmt: skip
        if url not in _SPLITS:
            raise ValueError(f"Invalid url '{url}' given; please provide one of {list(_SPLITS)}.")
        root = os.fspath(root)
        self._archive = os.path.join(root, folder_in_archive)
        self._url = url
        self._path = os.path.join(root, folder_in_archive, url)
        prepare("LIBRISPEECH", self._path, os.path.join(root, url + ".tar.gz"), download)
        pattern = "*/*/*" + self._ext_audio
        self._walker = sorted(str(p.stem) for p in Path(self._path).glob(pattern))

    def get_metadata(self, n: int):
        """``(relative audio path, sample_rate, transcript, speaker, chapter, utterance)``."""
        fileid = self._walker[n]
        speaker_id, chapter_id, utterance_id = fileid.split("-")
        text_file = os.path.join(self._path, speaker_id, chapter_id,
                                 f"{speaker_id}-{chapter_id}{self._ext_txt}")  # fmt: skip
        with open(text_file) as f:
            for line in f:
                key, transcript = line.strip().split(" ", 1)
                if key == fileid:
                    break
            else:
                raise FileNotFoundError(f"Translation not found for {fileid}")
        path = os.path.join(self._url, speaker_id, chapter_id, fileid + self._ext_audio)
        return path, SAMPLE_RATE, transcript, int(speaker_id), int(chapter_id), int(utterance_id)

    def __getitem__(self, n: int):
        metadata = self.get_metadata(n)
        waveform, _ = load(os.path.join(self._archive, metadata[0]))
        return (waveform,) + metadata[1:]

    def __len__(self) -> int:
        return len(self._walker)
