"""SummaryWriter's less common add_* methods (tensors, raw histograms, audio, video, boxes, PR
curves, custom scalars, meshes, ONNX graphs), kept apart from the everyday ones."""

from __future__ import annotations

import time

from tensorboard.compat.proto.event_pb2 import Event

from . import _image, _plugins


class PluginMethods:
    """Mixed into :class:`SummaryWriter`; each method writes what PyTorch's writes."""

    def add_tensor(self, tag: str, tensor, global_step=None, walltime=None):
        """Log the whole ``tensor`` (its values and shape) under the ``tensor`` plugin."""
        self._add(_plugins.tensor_proto(tag, tensor), global_step, walltime)

    def add_histogram_raw(
        self,
        tag: str,
        min,
        max,
        num,
        sum,
        sum_squares,
        bucket_limits,
        bucket_counts,
        global_step=None,
        walltime=None,
    ):
        """Log a histogram whose statistics and buckets (right edges) you computed."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        summary = _plugins.histogram_raw(
            tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts
        )
        self._add(summary, global_step, walltime)

    def add_image_with_boxes(
        self,
        tag: str,
        img_tensor,
        box_tensor,
        global_step=None,
        walltime=None,
        rescale=1,
        dataformats="CHW",
        labels=None,
    ):
        """Log an image with boxes (N, 4: xmin, ymin, xmax, ymax in pixels) drawn in red;
        ``labels`` (one per box) are written on them, and dropped if their count differs."""
        if isinstance(labels, str):
            labels = [labels]
        if labels is not None and len(labels) != box_tensor.shape[0]:
            labels = None
        summary = _image.image_boxes(tag, img_tensor, box_tensor, rescale, dataformats, labels)
        self._add(summary, global_step, walltime)

    def add_video(self, tag: str, vid_tensor, global_step=None, fps=4, walltime=None):
        """Log a (N, T, C, H, W) video as a GIF (floats in [0, 1] or uint8). Needs moviepy;
        without it, as PyTorch, a message is printed and an empty image is logged."""
        self._add(_image.video(tag, vid_tensor, fps), global_step, walltime)

    def add_audio(self, tag: str, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """Log mono audio (samples in [-1, 1]) as a 16-bit WAV."""
        self._add(_plugins.audio(tag, snd_tensor, sample_rate), global_step, walltime)

    def add_pr_curve(
        self,
        tag: str,
        labels,
        predictions,
        global_step=None,
        num_thresholds=127,
        weights=None,
        walltime=None,
    ):
        """Log a precision-recall curve of 0/1 ``labels`` against ``predictions`` in [0, 1]
        (``num_thresholds`` is capped at 127, as in PyTorch)."""
        summary = _plugins.pr_curve(tag, labels, predictions, num_thresholds, weights)
        self._add(summary, global_step, walltime)

    def add_pr_curve_raw(
        self,
        tag: str,
        true_positive_counts,
        false_positive_counts,
        true_negative_counts,
        false_negative_counts,
        precision,
        recall,
        global_step=None,
        num_thresholds=127,
        weights=None,
        walltime=None,
    ):
        """Log a precision-recall curve from counts you computed (``weights`` is unused, as in
        PyTorch)."""
        counts = (true_positive_counts, false_positive_counts, true_negative_counts)
        summary = _plugins.pr_curve_raw(
            tag, *counts, false_negative_counts, precision, recall, num_thresholds
        )
        self._add(summary, global_step, walltime)

    def add_custom_scalars(self, layout: dict):
        """Log the Custom Scalars layout ``{category: {title: ["Multiline"|"Margin", tags]}}``."""
        self._add(_plugins.custom_scalars(layout))

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        """Log a Custom Scalars chart with one line per tag in ``tags``."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        """Log a Custom Scalars margin chart: ``tags`` is [value, lower, upper]."""
        if len(tags) != 3:
            raise AssertionError(f"Expected 3 tags, got {len(tags)}.")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_mesh(
        self,
        tag: str,
        vertices,
        colors=None,
        faces=None,
        config_dict=None,
        global_step=None,
        walltime=None,
    ):
        """Log a mesh or point cloud: ``vertices`` (B, N, 3), ``colors`` (B, N, 3) uint8,
        ``faces`` (B, F, 3) vertex indices, ``config_dict`` three.js settings."""
        summary = _plugins.mesh(tag, vertices, colors, faces, config_dict)
        self._add(summary, global_step, walltime)

    def add_onnx_graph(self, prototxt):
        """Log the graph of the ONNX model file ``prototxt`` (needs the ``onnx`` package)."""
        from ._graph import onnx_graph_def

        graph = onnx_graph_def(prototxt)
        self._file_writer().add_event(
            Event(graph_def=graph.SerializeToString(), wall_time=time.time())
        )
