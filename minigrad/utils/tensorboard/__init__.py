"""TensorBoard logging, as ``torch.utils.tensorboard``: :class:`SummaryWriter`.

Event files are written with the ``tensorboard`` package's own ``EventFileWriter`` (the writer
that ``torch.utils.tensorboard`` uses as well): it is maintained with TensorBoard itself, so its
files are what TensorBoard reads, and it needs no TensorFlow. Install it with
``pip install tensorboard``; view the logs with ``tensorboard --logdir runs``.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime

try:
    from tensorboard.compat.proto.event_pb2 import Event, SessionLog
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
except ImportError:  # pragma: no cover - depends on the environment
    raise ImportError(
        "minigrad.utils.tensorboard needs the tensorboard package: pip install tensorboard"
    ) from None

from . import _image, _summary
from ._more import PluginMethods

__all__ = ["SummaryWriter"]


class SummaryWriter(PluginMethods):
    """Writes scalars, histograms, images, figures, text, hyperparameters, embeddings and the
    model graph to event files in ``log_dir`` for TensorBoard, with ``torch.utils.tensorboard``'s API.

    Args:
        log_dir: where to write; default ``runs/<date>_<host><comment>``.
        comment: appended to the default ``log_dir`` (ignored when ``log_dir`` is given).
        purge_step: after a crash, events at or after this step from the earlier run are
            hidden by TensorBoard (a ``SessionLog.START`` at that step).
        max_queue: events kept in memory before a write.
        flush_secs: how often pending events are flushed to disk.
        filename_suffix: appended to the event file's name.

    Example:
        >>> with SummaryWriter("runs/mlp") as writer:
        ...     for step in range(100):
        ...         writer.add_scalar("loss", loss.item(), step)
        ...     writer.add_graph(model, x)
    """

    def __init__(
        self,
        log_dir: str | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ):
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self.purge_step = purge_step
        self.max_queue, self.flush_secs, self.filename_suffix = (
            max_queue,
            flush_secs,
            filename_suffix,
        )
        self._writer = None
        self._all_writers = {}
        self._file_writer()  # create the directory and file now, as PyTorch does

    # -- writers -------------------------------------------------------------------------------
    def _file_writer(self):
        if self._writer is None:
            self._writer = self._make_writer(self.log_dir)
            if self.purge_step is not None:
                self._writer.add_event(
                    Event(step=self.purge_step, session_log=SessionLog(status=SessionLog.START))
                )
                self.purge_step = None
        return self._writer

    def _make_writer(self, log_dir: str):
        writer = EventFileWriter(log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
        self._all_writers[log_dir] = writer
        return writer

    def get_logdir(self) -> str:
        """The directory event files go to."""
        return self.log_dir

    def _add(self, summary, global_step=None, walltime=None, writer=None) -> None:
        event = Event(summary=summary, wall_time=time.time() if walltime is None else walltime)
        if global_step is not None:
            event.step = int(global_step)
        (writer or self._file_writer()).add_event(event)

    # -- summaries -----------------------------------------------------------------------------
    def add_scalar(
        self,
        tag: str,
        scalar_value,
        global_step=None,
        walltime=None,
        new_style: bool = False,
        double_precision: bool = False,
    ):
        """Log one number (a float, or a one-element tensor) under ``tag`` at ``global_step``;
        ``new_style`` writes it as a tensor (float, or double with ``double_precision``)."""
        summary = _summary.scalar(tag, scalar_value, new_style, double_precision)
        self._add(summary, global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None, walltime=None):
        """Log several numbers in one chart: each key goes to its own run
        ``<log_dir>/<main_tag>_<key>`` under the tag ``main_tag``, as PyTorch does."""
        walltime = time.time() if walltime is None else walltime
        for key, value in tag_scalar_dict.items():
            path = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + key)
            writer = self._all_writers.get(path) or self._make_writer(path)
            self._add(_summary.scalar(main_tag, value), global_step, walltime, writer)

    def add_histogram(
        self, tag: str, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None
    ):
        """Log the distribution of ``values`` (a tensor or array); ``bins`` as
        ``numpy.histogram`` takes them, or ``"tensorflow"`` (exponential buckets, the default)."""
        self._add(_summary.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """Log one image: floats in [0, 1] or uint8, laid out as ``dataformats`` (CHW, HWC, HW,
        or any order of those letters)."""
        self._add(_image.image(tag, img_tensor, dataformats), global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """Log a batch of images (NCHW, NHWC, ...) tiled edge to edge, 8 per row, as PyTorch."""
        self._add(_image.image(tag, img_tensor, dataformats), global_step, walltime)

    def add_figure(self, tag: str, figure, global_step=None, close: bool = True, walltime=None):
        """Log a matplotlib figure (or a list of them) as an RGB image; closes it by default."""
        layout = "NCHW" if isinstance(figure, list) else "CHW"
        array = _image.figure_to_image(figure, close)
        self._add(_image.image(tag, array, layout), global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None):
        """Log text (Markdown) under ``tag``."""
        self._add(_summary.text(tag, text_string), global_step, walltime)

    def add_hparams(
        self,
        hparam_dict: dict,
        metric_dict: dict,
        hparam_domain_discrete: dict | None = None,
        run_name: str | None = None,
        global_step=None,
    ):
        """Log one run's hyperparameters and its final metrics for the HParams tab.

        As in PyTorch, they go to a sub-run ``<log_dir>/<run_name>`` (default: the current
        time), with each metric also logged as a scalar there.
        """
        experiment, start, end = _summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        run = os.path.join(self.log_dir, run_name or str(time.time()))
        writer = self._make_writer(run)  # its own file, closed at once, as PyTorch's
        for summary in (experiment, start, end):
            self._add(summary, global_step, None, writer)
        for key, value in metric_dict.items():
            self._add(_summary.scalar(key, value), global_step, None, writer)
        writer.close()
        del self._all_writers[run]

    def add_embedding(
        self,
        mat,
        metadata=None,
        label_img=None,
        global_step=None,
        tag: str = "default",
        metadata_header=None,
    ):
        """Log points ``mat`` (N, D) for the Projector tab, with one ``metadata`` label per row
        (or, with ``metadata_header``, one list of columns per row) and ``label_img`` (N, C, H, W)
        thumbnails, as PyTorch writes them: ``<log_dir>/<step:05d>/<tag>/tensors.tsv``,
        ``metadata.tsv``, ``sprite.png``, and ``<log_dir>/projector_config.pbtxt`` listing every
        embedding this writer logged.
        """
        from ._embedding import add_embedding

        add_embedding(self, mat, metadata, label_img, global_step, tag, metadata_header)

    def add_graph(
        self, model, input_to_model=None, verbose: bool = False, use_strict_trace: bool = True
    ):
        """Log the graph of ``model(*input_to_model)`` for the Graphs tab.

        The graph is minigrad's own record of the forward pass, laid out as PyTorch's JIT
        trace: one ``aten::`` node per library call (``F.batch_norm``, ``x.view``), named by
        its module scope and the JIT's debug name of its value (``Net/Linear[fc1]/input.1``:
        the variable that held it where an op first used it), parameters as ``prim::GetAttr``
        nodes and inputs as ``IO Node`` s named by ``forward``'s parameters, with output shapes
        on the edges. ``use_strict_trace`` is PyTorch's JIT option, accepted and without
        effect here.
        """
        from ._graph import model_graph

        nodes = model_graph(model, input_to_model)
        if verbose:
            for node in nodes:
                print(node[0], node[1], node[2], node[3])
        graph = _summary.graph_def(nodes)
        self._file_writer().add_event(
            Event(graph_def=graph.SerializeToString(), wall_time=time.time())
        )

    # -- lifecycle -----------------------------------------------------------------------------
    def flush(self) -> None:
        """Write pending events to disk."""
        for writer in self._all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every event file (a later add_* call opens a new one)."""
        for writer in self._all_writers.values():
            writer.flush()
            writer.close()
        self._all_writers = {}
        self._writer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
