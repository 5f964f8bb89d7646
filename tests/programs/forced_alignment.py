"""The "Forced Alignment with Wav2Vec2" tutorial, as written for PyTorch, with a tiny
convolutional acoustic model trained with CTC on a synthetic utterance (each character a tone)
in place of wav2vec 2.0: frame-wise ``log_softmax`` emissions, the tutorial's ``get_trellis``
(``torch.cumsum`` of blank scores, ``-inf``/``inf`` borders, ``torch.maximum`` of staying and
changing, indexed with a token list), ``backtrack`` over ``Point`` dataclasses (0-d tensor
comparisons, ``.exp().item()``), ``merge_repeats`` into character ``Segment``s and
``merge_words`` at the ``|`` separator, and the word boundaries turned into waveform sample
ranges with the frame ratio, checked against where the words really are."""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
labels = ("-", "|", "A", "C", "E", "H", "S", "T")
transcript = "THE|CAT|HAS|TEA"
dictionary = {c: i for i, c in enumerate(labels)}
tokens = [dictionary[c] for c in transcript]
SAMPLES_PER_FRAME = 8

# The utterance: each character held 2-4 frames, blanks (silence) between some of them.
frames, true_starts = [], []
for i, c in enumerate(transcript):
    if i % 3 == 0:
        frames += [0]
    true_starts.append(len(frames))
    frames += [dictionary[c]] * (2 + (i * 7) % 3)
frames += [0, 0]
num_frames = len(frames)
t = torch.arange(num_frames * SAMPLES_PER_FRAME, dtype=torch.float32)
frequency = torch.tensor(frames, dtype=torch.float32).repeat_interleave(SAMPLES_PER_FRAME)
waveform = torch.where(frequency > 0, torch.sin(0.35 * frequency * t), torch.zeros_like(t))
waveform = waveform + 0.05 * torch.randn_like(waveform)

model = nn.Sequential(
    nn.Conv1d(1, 24, SAMPLES_PER_FRAME, stride=SAMPLES_PER_FRAME),
    nn.ReLU(),
    nn.Conv1d(24, 24, 3, padding=1),
    nn.ReLU(),
    nn.Conv1d(24, len(labels), 1),
)
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
targets = torch.tensor([tokens])
ctc_losses = []
for step in range(60):
    emissions = model(waveform[None, None]).permute(2, 0, 1).log_softmax(-1)  # (T, N, C)
    loss = F.ctc_loss(emissions, targets, [num_frames], [len(tokens)], blank=0)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    ctc_losses.append(loss.item())
with torch.inference_mode():
    emissions = torch.log_softmax(model(waveform[None, None]).transpose(1, 2), dim=-1)
emission = emissions[0].cpu().detach()


def get_trellis(emission, tokens, blank_id=0):
    num_frame = emission.size(0)
    num_tokens = len(tokens)
    trellis = torch.zeros((num_frame, num_tokens))
    trellis[1:, 0] = torch.cumsum(emission[1:, blank_id], 0)
    trellis[0, 1:] = -float("inf")
    trellis[-num_tokens + 1 :, 0] = float("inf")
    for t in range(num_frame - 1):
        trellis[t + 1, 1:] = torch.maximum(
            trellis[t, 1:] + emission[t, blank_id],  # score for staying at the same token
            trellis[t, :-1] + emission[t, tokens[1:]],  # score for changing to the next token
        )
    return trellis


@dataclass
class Point:
    token_index: int
    time_index: int
    score: float


def backtrack(trellis, emission, tokens, blank_id=0):
    t, j = trellis.size(0) - 1, trellis.size(1) - 1
    path = [Point(j, t, emission[t, blank_id].exp().item())]
    while j > 0:
        assert t > 0  # should not happen but just in case
        p_stay = emission[t - 1, blank_id]
        p_change = emission[t - 1, tokens[j]]
        stayed = trellis[t - 1, j] + p_stay
        changed = trellis[t - 1, j - 1] + p_change
        t -= 1
        if changed > stayed:
            j -= 1
        prob = (p_change if changed > stayed else p_stay).exp().item()
        path.append(Point(j, t, prob))
    while t > 0:  # j == 0: fill up the rest
        prob = emission[t - 1, blank_id].exp().item()
        path.append(Point(j, t - 1, prob))
        t -= 1
    return path[::-1]


@dataclass
class Segment:
    label: str
    start: int
    end: int
    score: float

    def __repr__(self):
        return f"{self.label}\t({self.score:4.2f}): [{self.start:5d}, {self.end:5d})"

    @property
    def length(self):
        return self.end - self.start


def merge_repeats(path):
    i1, i2 = 0, 0
    segments = []
    while i1 < len(path):
        while i2 < len(path) and path[i1].token_index == path[i2].token_index:
            i2 += 1
        score = sum(path[k].score for k in range(i1, i2)) / (i2 - i1)
        segments.append(
            Segment(
                transcript[path[i1].token_index],
                path[i1].time_index,
                path[i2 - 1].time_index + 1,
                score,
            )
        )
        i1 = i2
    return segments


def merge_words(segments, separator="|"):
    words = []
    i1, i2 = 0, 0
    while i1 < len(segments):
        if i2 >= len(segments) or segments[i2].label == separator:
            if i1 != i2:
                segs = segments[i1:i2]
                word = "".join([seg.label for seg in segs])
                score = sum(seg.score * seg.length for seg in segs) / sum(
                    seg.length for seg in segs
                )
                words.append(Segment(word, segments[i1].start, segments[i2 - 1].end, score))
            i1 = i2 + 1
            i2 = i1
        else:
            i2 += 1
    return words


trellis = get_trellis(emission, tokens)
trellis_corner = [trellis[0, 1].item(), trellis[-1, 0].item(), trellis[-1, -1].item()]
path = backtrack(trellis, emission, tokens)
segments = merge_repeats(path)
for seg in segments[:4]:
    print(seg)
word_segments = merge_words(segments)
ratio = waveform.size(0) / trellis.size(0)
word_samples = []
for word in word_segments:
    x0, x1 = int(ratio * word.start), int(ratio * word.end)
    print(
        f"{word.label} ({word.score:.2f}): {x0 / SAMPLES_PER_FRAME:.1f} - {x1 / SAMPLES_PER_FRAME:.1f}"
    )
    word_samples.append((word.label, x0, x1, round(word.score, 4)))
aligned_starts = [seg.start for seg in segments]
start_errors = [abs(a - b) for a, b in zip(aligned_starts, true_starts)]
summary = (len(path), len(segments), [w.label for w in word_segments], max(start_errors))
