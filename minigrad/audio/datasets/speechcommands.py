"""torchaudio.datasets.SPEECHCOMMANDS over a local copy of Google's Speech Commands (v0.01
or v0.02): ``root/SpeechCommands/speech_commands_v0.02/<label>/<speaker>_nohash_<n>.wav``."""

from __future__ import annotations

import os
from pathlib import Path

from minigrad.utils.data import Dataset

from .utils import load_waveform, prepare

HASH_DIVIDER = "_nohash_"
EXCEPT_FOLDER = "_background_noise_"
SAMPLE_RATE = 16000


def _load_list(root, *filenames):
    """Normalized paths under ``root`` named one per line in ``filenames``."""
    paths = []
    for filename in filenames:
        with open(os.path.join(root, filename)) as f:
            paths += [os.path.normpath(os.path.join(root, line.strip())) for line in f]
    return paths


class SPEECHCOMMANDS(Dataset):
    """Items ``(waveform (1, time), sample_rate, label, speaker_id, utterance_number)``.

    ``subset``: None (every clip), ``"validation"``/``"testing"`` (the clips named in
    ``validation_list.txt``/``testing_list.txt``) or ``"training"`` (the rest); clips in
    ``_background_noise_`` are left out. ``download=True`` extracts
    ``root/speech_commands_v0.02.tar.gz`` if it is there; nothing is fetched.
    """

    def __init__(self, root, url: str = "speech_commands_v0.02",
                 folder_in_archive: str = "SpeechCommands", download: bool = False,
                 subset=None):  # fmt: skip
        if subset is not None and subset not in ("training", "validation", "testing"):
            raise ValueError(
                "When `subset` is not None, it must be one of ['training', 'validation', 'testing']."
            )
        root = os.fspath(root)
        basename = os.path.basename(url)
        stem = basename.split(".tar")[0]
        self._archive = os.path.join(root, folder_in_archive)
        self._path = os.path.join(root, folder_in_archive, stem)
        archive = os.path.join(root, stem + ".tar.gz")
        # the archive has no top folder: torchaudio extracts it into the versioned folder
        prepare("SPEECHCOMMANDS", self._path, archive, download, extract_to=self._path)
        if subset == "validation":
            self._walker = _load_list(self._path, "validation_list.txt")
        elif subset == "testing":
            self._walker = _load_list(self._path, "testing_list.txt")
        else:
            walker = sorted(str(p) for p in Path(self._path).glob("*/*.wav"))
            walker = [w for w in walker if HASH_DIVIDER in w and EXCEPT_FOLDER not in w]
            if subset == "training":
                excludes = set(_load_list(self._path, "validation_list.txt", "testing_list.txt"))
                walker = [w for w in walker if os.path.normpath(w) not in excludes]
            self._walker = walker

    def get_metadata(self, n: int):
        """``(relative path, sample_rate, label, speaker_id, utterance_number)`` of clip n."""
        relpath = os.path.relpath(self._walker[n], self._archive)
        reldir, filename = os.path.split(relpath)
        label = os.path.basename(reldir)
        speaker = os.path.splitext(os.path.splitext(filename)[0])[0]
        speaker_id, utterance_number = speaker.split(HASH_DIVIDER)
        return relpath, SAMPLE_RATE, label, speaker_id, int(utterance_number)

    def __getitem__(self, n: int):
        metadata = self.get_metadata(n)
        return (load_waveform(self._archive, metadata[0], metadata[1]),) + metadata[1:]

    def __len__(self) -> int:
        return len(self._walker)
