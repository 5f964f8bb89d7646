"""Image captioning as the sgrvinod / yunjey PyTorch tutorials write it: a small CNN encoder,
an LSTM decoder whose first input is the image feature, captions sorted by length with
``sort(descending=True)`` and fed with ``pack_padded_sequence`` (teacher forcing), the loss on
the packed ``.data`` against packed targets, and greedy sampling with ``nn.LSTM`` states carried
step by step; images are synthetic shapes whose captions name colour, shape and position."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

rng = np.random.default_rng(161)
words = [
    "<pad>",
    "<start>",
    "<end>",
    "a",
    "red",
    "green",
    "square",
    "bar",
    "left",
    "right",
    "on",
    "the",
]
w2i = {w: i for i, w in enumerate(words)}
SIZE = 10


def example():
    colour, shape, side = int(rng.integers(2)), int(rng.integers(2)), int(rng.integers(2))
    img = np.zeros((3, SIZE, SIZE), np.float32)
    x0 = 1 if side == 0 else 6
    h = 3 if shape == 0 else 6
    img[colour, 2 : 2 + h, x0 : x0 + 3] = 1.0
    img += rng.normal(0, 0.1, img.shape).astype(np.float32)
    caption = ["<start>", "a", ["red", "green"][colour], ["square", "bar"][shape]]
    if rng.random() < 0.5:
        caption += ["on", "the", ["left", "right"][side]]
    caption.append("<end>")
    return torch.from_numpy(img), torch.tensor([w2i[w] for w in caption])


class EncoderCNN(nn.Module):
    def __init__(self, embed_size):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d((2, 2)),
        )
        # no bias before the batch norm: its gradient is zero up to rounding, and Adam would
        # turn that noise into steps that move the running mean
        self.linear = nn.Linear(32, embed_size, bias=False)
        self.bn = nn.BatchNorm1d(embed_size, momentum=0.01)

    def forward(self, images):
        return self.bn(self.linear(self.conv(images).reshape(images.size(0), -1)))


class DecoderRNN(nn.Module):
    def __init__(self, embed_size, hidden_size, vocab_size, max_seq_length=9):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size, 1, batch_first=True)
        self.linear = nn.Linear(hidden_size, vocab_size)
        self.max_seg_length = max_seq_length

    def forward(self, features, captions, lengths):
        embeddings = self.embed(captions)
        embeddings = torch.cat((features.unsqueeze(1), embeddings), 1)
        packed = pack_padded_sequence(embeddings, lengths, batch_first=True)
        hiddens, _ = self.lstm(packed)
        return self.linear(hiddens[0]), hiddens

    def sample(self, features, states=None):
        sampled_ids = []
        inputs = features.unsqueeze(1)
        for i in range(self.max_seg_length):
            hiddens, states = self.lstm(inputs, states)
            outputs = self.linear(hiddens.squeeze(1))
            _, predicted = outputs.max(1)
            sampled_ids.append(predicted)
            inputs = self.embed(predicted).unsqueeze(1)
        return torch.stack(sampled_ids, 1)


def collate_fn(data):
    data.sort(key=lambda x: len(x[1]), reverse=True)
    images, captions = zip(*data)
    images = torch.stack(images, 0)
    lengths = [len(cap) for cap in captions]
    targets = torch.zeros(len(captions), max(lengths)).long()
    for i, cap in enumerate(captions):
        targets[i, : lengths[i]] = cap[: lengths[i]]
    return images, targets, lengths


encoder = init_from_numpy(EncoderCNN(16), seed=161)
decoder = init_from_numpy(DecoderRNN(16, 32, len(words)), seed=162)
params = (
    list(decoder.parameters())
    + list(encoder.linear.parameters())
    + list(encoder.bn.parameters())
    + list(encoder.conv.parameters())
)
optimizer = torch.optim.Adam(params, lr=1e-2)
criterion = nn.CrossEntropyLoss()
losses = []
for step in range(30):
    images, captions, lengths = collate_fn([example() for _ in range(16)])
    targets = pack_padded_sequence(captions, lengths, batch_first=True)[0]
    features = encoder(images)
    # the decoder's first input is the image, so it predicts the caption from "<start>" on
    outputs, packed_hiddens = decoder(features, captions, lengths)
    loss = criterion(outputs, targets)
    decoder.zero_grad()
    encoder.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

padded, padded_lengths = pad_packed_sequence(packed_hiddens, batch_first=True)
batch_sizes = packed_hiddens.batch_sizes.tolist()
encoder.eval()
images, captions, lengths = collate_fn([example() for _ in range(6)])
with torch.no_grad():
    sampled = decoder.sample(encoder(images)).tolist()
sentences = [
    " ".join(words[i] for i in ids[: ids.index(w2i["<end>"]) if w2i["<end>"] in ids else None])
    for ids in sampled
]
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; {sentences[:2]}")
