"""minigrad.audio against torchaudio: feature extraction on one second of 16 kHz audio.

``python -m benchmarks.audio`` prints, for each workload, minigrad's CPU milliseconds per call
and, where torchaudio imports (it runs without its C++ extension: ``lfilter`` then uses its
Python loop), torchaudio's and the ratio minigrad/torchaudio. Each variant keeps its least
disturbed figure over ``repeats`` rounds (the machine may be shared); PyTorch runs on one
thread, as minigrad does.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import minigrad
from minigrad.audio import functional as mf
from minigrad.audio import transforms as mt

WORKLOADS = {  # name -> call on (transforms module, functional module, waveform)
    "MelSpectrogram(n_mels=64)": lambda t, f, x: t.MelSpectrogram(n_mels=64)(x),
    "MFCC(n_mfcc=13)": lambda t, f, x: t.MFCC(n_mfcc=13, melkwargs={"n_mels": 40})(x),
    "resample 16k->8k": lambda t, f, x: f.resample(x, 16000, 8000),
    "Spectrogram + backward": lambda t, f, x: t.Spectrogram()(x.requires_grad_()).sum().backward(),
    "lowpass_biquad": lambda t, f, x: f.lowpass_biquad(x, 16000, 1000.0),
}


def _best(call, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def run(repeats: int = 5) -> dict:
    """{workload: (minigrad ms, torchaudio ms or None)}."""
    audio = (np.random.default_rng(0).standard_normal((1, 16000)) * 0.3).astype(np.float32)
    try:
        import torch
        import torchaudio.functional as tf
        import torchaudio.transforms as tt

        torch.set_num_threads(1)
    except ImportError:  # (also what a torchaudio wheel built for another PyTorch raises)
        torch = None
    results = {}
    for name, work in WORKLOADS.items():
        ours = _best(lambda: work(mt, mf, minigrad.tensor(audio)), repeats)  # noqa: B023
        theirs = None
        if torch is not None:
            theirs = _best(lambda: work(tt, tf, torch.tensor(audio)), repeats)  # noqa: B023
        results[name] = (ours * 1e3, None if theirs is None else theirs * 1e3)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.audio", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--repeats", type=int, default=5, help="rounds per variant (min kept)")
    args = parser.parse_args(argv)
    for name, (ours, theirs) in run(args.repeats).items():
        line = f"{name:28s} minigrad {ours:8.2f} ms"
        if theirs is not None:
            line += f"   torchaudio {theirs:8.2f} ms   ratio {ours / theirs:5.2f}"
        print(line)


if __name__ == "__main__":
    main()
