"""torchaudio.models.Wav2Letter: the all-convolutional speech recognizer of Collobert et al.
(2016), with torchaudio's layer sizes and state_dict keys (``acoustic_model.*``)."""

from __future__ import annotations

from minigrad import nn
from minigrad.nn import functional as F


def _conv_relu(cin, cout, kernel, stride, padding):
    return [nn.Conv1d(cin, cout, kernel, stride=stride, padding=padding), nn.ReLU(inplace=True)]


class Wav2Letter(nn.Module):
    """Log-probabilities ``(batch, num_classes, frames)`` from ``(batch, num_features, time)``.

    ``input_type="waveform"`` (a first conv of kernel 250, stride 160 over raw audio) or
    ``"power_spectrum"``/``"mfcc"`` (``num_features`` coefficients per frame).
    """

    def __init__(self, num_classes: int = 40, input_type: str = "waveform", num_features: int = 1):
        super().__init__()
        if input_type not in ("waveform", "power_spectrum", "mfcc"):
            raise ValueError(
                f"Wav2Letter: input_type must be 'waveform', 'power_spectrum' or 'mfcc', "
                f"got {input_type!r}"
            )
        width = 250 if input_type == "waveform" else num_features
        layers = _conv_relu(width, 250, 48, 2, 23)
        for _ in range(7):
            layers += _conv_relu(250, 250, 7, 1, 3)
        layers += _conv_relu(250, 2000, 32, 1, 16)
        layers += _conv_relu(2000, 2000, 1, 1, 0)
        layers += _conv_relu(2000, num_classes, 1, 1, 0)
        acoustic_model = nn.Sequential(*layers)
        if input_type == "waveform":
            front = nn.Sequential(*_conv_relu(num_features, 250, 250, 160, 45))
            self.acoustic_model = nn.Sequential(front, acoustic_model)
        else:
            self.acoustic_model = acoustic_model

    def forward(self, x):
        return F.log_softmax(self.acoustic_model(x), dim=1)
