"""``torchaudio.compliance`` on minigrad: :mod:`.kaldi`, Kaldi-compatible features."""

from . import kaldi

__all__ = ["kaldi"]
