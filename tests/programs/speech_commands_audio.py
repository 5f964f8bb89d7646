"""PyTorch's "Speech Command Classification with torchaudio" tutorial, shrunk: a
SpeechCommands tree of synthetic clips (tones per word, written as 16-bit WAVs with the
standard library), ``torchaudio.datasets.SPEECHCOMMANDS`` with its training/testing subsets,
``torchaudio.transforms.Resample`` 16 kHz -> 8 kHz, ``MelSpectrogram`` and ``AmplitudeToDB``
features, ``pad_sequence`` collation in a ``DataLoader``, a small conv net trained with Adam
for a few steps, and test accuracy. Weights and clips come from NumPy, so the run under
PyTorch + torchaudio gives the same numbers."""

import os
import tempfile
import wave

import numpy as np
import torch
import torch.nn.functional as F
import torchaudio
from numpy_init import init_from_numpy
from torch import nn

WORDS = {"yes": 440.0, "no": 660.0, "up": 990.0}
SAMPLE_RATE, CLIP = 16000, 2400


def write_tree(root):
    """root/SpeechCommands/speech_commands_v0.02/<word>/<speaker>_nohash_0.wav, plus lists."""
    rng = np.random.default_rng(0)
    base = os.path.join(root, "SpeechCommands", "speech_commands_v0.02")
    testing = []
    for word, freq in WORDS.items():
        os.makedirs(os.path.join(base, word))
        for speaker in range(6):
            t = np.arange(CLIP - 200 * (speaker % 3)) / SAMPLE_RATE
            tone = 0.4 * np.sin(2 * np.pi * freq * (1 + 0.02 * speaker) * t)
            clip = tone + 0.05 * rng.standard_normal(t.shape)
            name = f"{word}/s{speaker:02d}_nohash_0.wav"
            with wave.open(os.path.join(base, name), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(SAMPLE_RATE)
                w.writeframes((np.clip(clip, -1, 1) * 32767).astype("<i2").tobytes())
            if speaker == 5:
                testing.append(name)
    with open(os.path.join(base, "testing_list.txt"), "w") as f:
        f.write("\n".join(testing) + "\n")
    with open(os.path.join(base, "validation_list.txt"), "w") as f:
        f.write("")


class SubsetSC(torchaudio.datasets.SPEECHCOMMANDS):
    def __init__(self, root, subset):
        super().__init__(root, download=False, subset=subset)


class Net(nn.Module):
    def __init__(self, n_output):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 8, n_output)  # 8 channels x 8 mel bands

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.conv2(x))
        return F.log_softmax(self.fc(x.mean(dim=3).flatten(1)), dim=-1)  # mean over time


root = tempfile.mkdtemp()
write_tree(root)
train_set, test_set = SubsetSC(root, "training"), SubsetSC(root, "testing")
labels = sorted({item[2] for item in train_set})
waveform, sample_rate, label, speaker_id, utterance_number = train_set[0]
first_item = (tuple(waveform.shape), sample_rate, label, speaker_id, utterance_number)

transform = nn.Sequential(
    torchaudio.transforms.Resample(orig_freq=sample_rate, new_freq=8000),
    torchaudio.transforms.MelSpectrogram(sample_rate=8000, n_fft=128, hop_length=64, n_mels=16),
    torchaudio.transforms.AmplitudeToDB(top_db=80),
)
buffer_keys = sorted(transform.state_dict())


def collate_fn(batch):
    waves = [w.t() for w, *_ in batch]  # pad the clips to the longest, as the tutorial does
    waves = torch.nn.utils.rnn.pad_sequence(waves, batch_first=True, padding_value=0.0)
    targets = torch.tensor([labels.index(item[2]) for item in batch])
    return waves.permute(0, 2, 1), targets


order = [int(i) for i in np.random.default_rng(1).permutation(len(train_set))]  # mixed words
train_loader = torch.utils.data.DataLoader(train_set, batch_size=5, sampler=order,
                                           collate_fn=collate_fn)  # fmt: skip
test_loader = torch.utils.data.DataLoader(test_set, batch_size=3, collate_fn=collate_fn)
model = init_from_numpy(Net(len(labels)))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)

feature_shape, losses = None, []
for epoch in range(5):
    model.train()
    for waves, targets in train_loader:
        features = transform(waves)  # (batch, 1, n_mels, frames)
        feature_shape = tuple(features.shape)
        loss = F.nll_loss(model(features / 20.0 + 1.0), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

model.eval()
correct = 0
with torch.no_grad():
    for waves, targets in test_loader:
        correct += int((model(transform(waves) / 20.0 + 1.0).argmax(-1) == targets).sum())
accuracy = correct / len(test_set)
sizes = (len(train_set), len(test_set))
print(f"labels {labels}, first {first_item}, features {feature_shape}")
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, test accuracy {accuracy:.2f}")
