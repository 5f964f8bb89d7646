"""Plugin summaries as torch.utils.tensorboard writes them: tensors, raw histograms, audio, PR
curves, custom-scalar layouts, meshes and ONNX graphs."""

from __future__ import annotations

import io
import json
import struct
import wave

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

from ._summary import to_numpy


def _metadata(plugin: str, content: bytes = b"") -> SummaryMetadata:
    return SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name=plugin, content=content)
    )


def _shape(shape) -> TensorShapeProto:
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in shape])


def _half_bits(array: np.ndarray) -> list:
    # PyTorch packs each value as a float32 and stores those bits as an int (not IEEE half bits).
    return [struct.unpack("i", struct.pack("f", v))[0] for v in array.reshape(-1).tolist()]


_TENSOR_FIELDS = {  # numpy dtype name -> (TensorProto dtype, value field), as PyTorch's map
    "float16": ("DT_HALF", "half_val"),
    "bfloat16": ("DT_BFLOAT16", "half_val"),
    "float32": ("DT_FLOAT", "float_val"),
    "float64": ("DT_DOUBLE", "double_val"),
    "int8": ("DT_INT8", "int_val"),
    "uint8": ("DT_UINT8", "uint32_val"),
    "int16": ("DT_INT16", "int_val"),
    "int32": ("DT_INT32", "int_val"),
    "int64": ("DT_INT64", "int64_val"),
    "complex64": ("DT_COMPLEX64", "scomplex_val"),
    "complex128": ("DT_COMPLEX128", "dcomplex_val"),
    "bool": ("DT_BOOL", "bool_val"),
}


def tensor_proto(tag: str, tensor) -> Summary:
    """The whole tensor as a TensorProto under the ``tensor`` plugin."""
    array = to_numpy(tensor)
    if array.nbytes >= 1 << 31:
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    if array.dtype.name not in _TENSOR_FIELDS:
        raise ValueError(f"{tag} has unsupported tensor dtype {array.dtype}")
    dtype, field = _TENSOR_FIELDS[array.dtype.name]
    if field == "half_val":
        values = _half_bits(array)
    elif field.endswith("complex_val"):
        values = np.stack([array.real, array.imag], -1).reshape(-1).tolist()
    else:
        values = array.reshape(-1).tolist()
    proto = TensorProto(dtype=dtype, tensor_shape=_shape(array.shape), **{field: values})
    return Summary(value=[Summary.Value(tag=tag, metadata=_metadata("tensor"), tensor=proto)])


def histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):
    """A histogram summary from statistics and buckets the caller computed."""
    hist = HistogramProto(
        min=min,
        max=max,
        num=num,
        sum=sum,
        sum_squares=sum_squares,
        bucket_limit=bucket_limits,
        bucket=bucket_counts,
    )
    return Summary(value=[Summary.Value(tag=tag, histo=hist)])


def audio(tag: str, snd, sample_rate=44100) -> Summary:
    """A mono 16-bit WAV summary of samples in [-1, 1] (louder ones clipped, as PyTorch)."""
    array = to_numpy(snd).squeeze()
    if abs(array).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")  # PyTorch's message
        array = array.clip(-1, 1)
    if array.ndim != 1:
        raise AssertionError("input tensor should be 1 dimensional.")
    array = (array * np.iinfo(np.int16).max).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(array.data)
    proto = Summary.Audio(
        sample_rate=sample_rate,
        num_channels=1,
        length_frames=array.shape[-1],
        encoded_audio_string=buffer.getvalue(),
        content_type="audio/wav",
    )
    return Summary(value=[Summary.Value(tag=tag, audio=proto)])


def _chart(title: str, kind: str, tags):
    from tensorboard.plugins.custom_scalar import layout_pb2

    if kind == "Margin":
        if len(tags) != 3:
            raise AssertionError("len(tags) != 3")
        series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
        return layout_pb2.Chart(title=title, margin=layout_pb2.MarginChartContent(series=[series]))
    return layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=tags))


def custom_scalars(layout: dict) -> Summary:
    """The Custom Scalars layout: ``{category: {title: ["Multiline" | "Margin", tags]}}``."""
    from tensorboard.plugins.custom_scalar import layout_pb2

    categories = [
        layout_pb2.Category(title=name, chart=[_chart(t, *spec) for t, spec in charts.items()])
        for name, charts in layout.items()
    ]
    config = layout_pb2.Layout(category=categories).SerializeToString()
    proto = TensorProto(dtype="DT_STRING", string_val=[config], tensor_shape=TensorShapeProto())
    value = Summary.Value(
        tag="custom_scalars__config__", tensor=proto, metadata=_metadata("custom_scalars")
    )
    return Summary(value=[value])


def compute_curve(labels, predictions, num_thresholds, weights=None) -> np.ndarray:
    """(6, num_thresholds): TP, FP, TN, FN, precision, recall at thresholds i/(n-1)."""
    weights = 1.0 if weights is None else weights
    buckets = np.int32(np.floor(predictions * (num_thresholds - 1)))
    positive = labels.astype(np.float64)
    span = (0, num_thresholds - 1)
    tp, _ = np.histogram(buckets, num_thresholds, span, weights=positive * weights)
    fp, _ = np.histogram(buckets, num_thresholds, span, weights=(1.0 - positive) * weights)
    tp, fp = np.cumsum(tp[::-1])[::-1], np.cumsum(fp[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    precision = tp / np.maximum(1e-7, tp + fp)
    recall = tp / np.maximum(1e-7, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def _pr_summary(tag: str, data: np.ndarray, num_thresholds: int) -> Summary:
    from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData

    content = PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()
    proto = TensorProto(
        dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(), tensor_shape=_shape(data.shape)
    )
    value = Summary.Value(tag=tag, metadata=_metadata("pr_curves", content), tensor=proto)
    return Summary(value=[value])


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None) -> Summary:
    """A precision-recall curve of binary ``labels`` against ``predictions`` in [0, 1]."""
    num_thresholds = min(num_thresholds, 127)  # PyTorch's cap
    data = compute_curve(to_numpy(labels), to_numpy(predictions), num_thresholds, weights)
    return _pr_summary(tag, data, num_thresholds)


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127) -> Summary:
    """A precision-recall curve from counts the caller computed."""
    data = np.stack([to_numpy(a) for a in (tp, fp, tn, fn, precision, recall)])
    return _pr_summary(tag, data, min(num_thresholds, 127))


def mesh(tag, vertices, colors, faces, config_dict) -> Summary:
    """Vertices, faces and colors ((B, N, 3) each) for the Mesh plugin."""
    from tensorboard.plugins.mesh import metadata
    from tensorboard.plugins.mesh.plugin_data_pb2 import MeshPluginData

    config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    parts = [
        (to_numpy(t), kind)
        for t, kind in (
            (vertices, MeshPluginData.VERTEX),
            (faces, MeshPluginData.FACE),
            (colors, MeshPluginData.COLOR),
        )
        if t is not None
    ]
    components = metadata.get_components_bitmask([kind for _, kind in parts])
    values = []
    for array, kind in parts:
        meta = metadata.create_summary_metadata(
            tag, None, kind, components, array.shape, None, json_config=config
        )
        proto = TensorProto(
            dtype="DT_FLOAT", float_val=array.reshape(-1).tolist(), tensor_shape=_shape(array.shape)
        )
        name = metadata.get_instance_name(tag, kind)
        values.append(Summary.Value(tag=name, tensor=proto, metadata=meta))
    return Summary(value=values)
