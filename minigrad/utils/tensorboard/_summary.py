"""Summary protos for TensorBoard: scalars, histograms, text, hparams, graphs.

Built with the protobuf classes that the ``tensorboard`` package ships (no TensorFlow), as
``torch.utils.tensorboard.summary`` does.
"""

from __future__ import annotations

import functools

import numpy as np
from tensorboard.compat.proto import (
    attr_value_pb2,
    graph_pb2,
    node_def_pb2,
    tensor_pb2,
    tensor_shape_pb2,
    types_pb2,
    versions_pb2,
)
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata


def to_numpy(value) -> np.ndarray:
    """A host array from a minigrad tensor, a NumPy array or a Python number/list."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def scalar(tag: str, value, new_style: bool = False, double_precision: bool = False) -> Summary:
    """A scalar summary: TensorBoard's classic ``simple_value``, or with ``new_style`` a float
    (``double_precision``: double) tensor under the ``scalars`` plugin, as PyTorch writes."""
    value = to_numpy(value).squeeze()
    if value.ndim != 0:
        raise ValueError(f"add_scalar: {tag!r} needs a single number, got shape {value.shape}")
    number = float(value)
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=number)])
    if double_precision:
        proto = tensor_pb2.TensorProto(double_val=[number], dtype="DT_DOUBLE")
    else:
        proto = tensor_pb2.TensorProto(float_val=[number], dtype="DT_FLOAT")
    meta = _plugin_metadata("scalars")
    return Summary(value=[Summary.Value(tag=tag, tensor=proto, metadata=meta)])


@functools.lru_cache(maxsize=1)
def tensorflow_bins() -> np.ndarray:
    """TensorFlow's default bucket edges, as PyTorch builds them: ±1e-12 grown by a factor 1.1
    (multiplied step by step, so the edges round as PyTorch's do) while below 1e20, and 0."""
    pos = np.cumprod(np.append(1e-12, np.full(int(np.log(1e32) / np.log(1.1)) + 1, 1.1)))
    pos = pos[pos < 1e20]
    return np.concatenate([-pos[::-1], [0.0], pos])


def _subsample(counts: np.ndarray, limits: np.ndarray, max_bins: int):
    """Merge runs of ``len(counts) // max_bins`` buckets (the last run padded with empties)."""
    step = len(counts) // max_bins
    counts = np.pad(counts, (0, -len(counts) % step)).reshape(-1, step).sum(axis=-1)
    return counts, np.append(limits[:-1:step], limits[-1])


def make_histogram(values, bins, max_bins=None) -> HistogramProto:
    """A HistogramProto of ``values`` over ``numpy.histogram``'s ``bins``: buckets outside the
    data's support dropped, one empty bucket kept on the left (TensorBoard stores right edges
    only, so that bucket carries the leftmost edge)."""
    values = np.asarray(values).reshape(-1)
    if values.size == 0:
        raise ValueError("add_histogram: the input has no element")
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        counts, limits = _subsample(counts, limits, max_bins)
    nonzero = np.flatnonzero(counts)
    first, last = (nonzero[0], nonzero[-1]) if nonzero.size else (0, len(counts) - 1)
    kept = counts[first - 1 : last + 1] if first > 0 else np.concatenate([[0], counts[: last + 1]])
    return HistogramProto(
        min=values.min(),
        max=values.max(),
        num=len(values),
        sum=values.sum(),
        sum_squares=values.dot(values),
        bucket_limit=limits[first : last + 2].tolist(),
        bucket=kept.tolist(),
    )


def histogram(tag: str, values, bins="tensorflow", max_bins=None) -> Summary:
    """A histogram summary; ``bins`` as ``numpy.histogram`` takes it, or ``"tensorflow"``."""
    if isinstance(bins, str) and bins == "tensorflow":
        bins = tensorflow_bins()
    hist = make_histogram(to_numpy(values).astype(float), bins, max_bins)
    return Summary(value=[Summary.Value(tag=tag, histo=hist)])


def _plugin_metadata(name: str, content: bytes = b"") -> SummaryMetadata:
    return SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name=name, content=content)
    )


def text(tag: str, text_string: str) -> Summary:
    tensor = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING,
        string_val=[text_string.encode("utf-8")],
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)]
        ),
    )
    value = Summary.Value(
        tag=tag + "/text_summary", metadata=_plugin_metadata("text"), tensor=tensor
    )
    return Summary(value=[value])


def _check_domains(hparam_dict: dict, domains) -> dict:
    domains = domains or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for k, v in domains.items():
        if (
            k not in hparam_dict
            or not isinstance(v, list)
            or not all(isinstance(d, type(hparam_dict[k])) for d in v)
        ):
            raise TypeError(
                f"parameter: hparam_domain_discrete[{k}] should be a list of same type as "
                f"hparam_dict[{k}]."
            )
    return domains


def _hparam_value(key: str, v):
    """(struct field, value, DataType name) of one hyperparameter, as PyTorch sorts them: a bool
    is an int there, so it is logged as a number; a tensor as its first element."""
    if isinstance(v, (int, float)):
        return "number_value", v, "DATA_TYPE_FLOAT64"
    if isinstance(v, str):
        return "string_value", v, "DATA_TYPE_STRING"
    if hasattr(v, "detach") and hasattr(v, "numpy"):
        return "number_value", to_numpy(v).reshape(-1)[0], None
    raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")


def hparams(hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None):
    """The three summaries of the HParams plugin: experiment, session start, session end."""
    from google.protobuf import struct_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError("hparam_dict and metric_dict should be dictionary.")
    domains = _check_domains(hparam_dict, hparam_domain_discrete)
    infos, start = [], plugin_data_pb2.SessionStartInfo()
    for key, v in hparam_dict.items():
        if v is None:
            continue
        field, value, kind = _hparam_value(key, v)
        setattr(start.hparams[key], field, value)
        info = api_pb2.HParamInfo(
            name=key, type=api_pb2.DataType.Value(kind or "DATA_TYPE_FLOAT64")
        )
        if kind and key in domains:
            listed = [struct_pb2.Value(**{field: d}) for d in domains[key]]
            info.domain_discrete.CopyFrom(struct_pb2.ListValue(values=listed))
        infos.append(info)
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=k)) for k in metric_dict]

    def wrap(tag, field, proto):
        data = plugin_data_pb2.HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION)
        getattr(data, field).CopyFrom(proto)
        meta = _plugin_metadata(metadata.PLUGIN_NAME, data.SerializeToString())
        return Summary(value=[Summary.Value(tag=tag, metadata=meta)])

    experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)
    end = plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS)
    return (
        wrap(metadata.EXPERIMENT_TAG, "experiment", experiment),
        wrap(metadata.SESSION_START_INFO_TAG, "session_start_info", start),
        wrap(metadata.SESSION_END_INFO_TAG, "session_end_info", end),
    )


def graph_def(nodes) -> graph_pb2.GraphDef:
    """A GraphDef from ``(name, op, inputs, shape, attrs)`` tuples (TensorBoard's graph tab)."""
    out = []
    for name, op, inputs, shape, attrs in nodes:
        attr = {}
        if shape is not None:
            dims = [tensor_shape_pb2.TensorShapeProto.Dim(size=int(d)) for d in shape]
            attr["_output_shapes"] = attr_value_pb2.AttrValue(
                list=attr_value_pb2.AttrValue.ListValue(
                    shape=[tensor_shape_pb2.TensorShapeProto(dim=dims)]
                )
            )
        for key, v in attrs.items():
            attr[key] = attr_value_pb2.AttrValue(s=str(v).encode("utf-8"))
        out.append(node_def_pb2.NodeDef(name=name, op=op, input=inputs, attr=attr))
    return graph_pb2.GraphDef(node=out, versions=versions_pb2.VersionDef(producer=22))
