"""SummaryWriter: every add_* call read back with TensorBoard's own event reader."""

import numpy as np
import pytest

import minigrad
from minigrad import nn

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import (
    EventAccumulator,
)

from minigrad.utils.tensorboard import SummaryWriter


def _read(path):
    return EventAccumulator(str(path), size_guidance={"tensors": 0, "images": 0}).Reload()


def test_scalars_histograms_text(tmp_path):
    weights = minigrad.randn(1000)
    with SummaryWriter(tmp_path, flush_secs=1) as writer:
        for step in range(5):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_scalar("tensor_value", minigrad.tensor(2.5), 7)
        writer.add_histogram("weights", weights, 3)
        writer.add_histogram("counted", np.arange(10.0), 0, bins=5)
        writer.add_text("notes", "minigrad **run**", 1)
    events = _read(tmp_path)
    assert [(e.step, round(e.value, 6)) for e in events.Scalars("loss")] == [
        (s, round(1.0 / (s + 1), 6)) for s in range(5)
    ]
    assert events.Scalars("tensor_value")[0].value == 2.5
    hist = events.Histograms("weights")[0].histogram_value
    assert hist.num == 1000 and sum(hist.bucket) == 1000
    assert hist.min == pytest.approx(weights.min().item()) and hist.max == pytest.approx(
        weights.max().item()
    )
    assert hist.sum == pytest.approx(weights.sum().item(), abs=1e-3)
    counted = events.Histograms("counted")[0].histogram_value
    assert list(counted.bucket) == [0.0] + [2.0] * 5  # one empty bucket on the left, as PyTorch
    text = events.Tensors("notes/text_summary")[0].tensor_proto.string_val
    assert text == [b"minigrad **run**"]


def test_add_scalars_writes_one_run_per_key(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalars("accuracy", {"train": 0.9, "test": 0.8}, 2)
    assert _read(tmp_path / "accuracy_train").Scalars("accuracy")[0].value == pytest.approx(0.9)
    assert _read(tmp_path / "accuracy_test").Scalars("accuracy")[0].step == 2


def test_images_and_figure(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_image("chw", minigrad.rand(3, 8, 6), 0)
        writer.add_image("hw", np.zeros((5, 4), dtype=np.uint8), 0, dataformats="HW")
        writer.add_images("batch", minigrad.rand(4, 1, 8, 8), 0)
        matplotlib = pytest.importorskip("matplotlib")
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(2, 1), dpi=50)
        plt.plot([0, 1], [1, 0])
        writer.add_figure("figure", fig, 0)
        with pytest.raises(ValueError, match="dataformats"):
            writer.add_image("bad", minigrad.rand(3, 8, 6), 0, dataformats="HW")
    events = _read(tmp_path)
    chw = events.Images("chw")[0]
    assert (chw.height, chw.width) == (8, 6)
    assert events.Images("hw")[0].width == 4
    batch = events.Images("batch")[0]
    assert (batch.height, batch.width) == (8, 32)  # 4 images in a row, edge to edge (PyTorch)
    assert (events.Images("figure")[0].width, events.Images("figure")[0].height) == (100, 50)
    assert not plt.get_fignums()  # closed after logging


def test_hparams(tmp_path):
    from tensorboard.plugins.hparams import plugin_data_pb2

    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams(
            {"lr": 0.1, "optimizer": "sgd", "bn": True}, {"hparam/acc": 0.75}, run_name="a"
        )
    events = _read(tmp_path / "a")
    assert events.Scalars("hparam/acc")[0].value == 0.75
    content = events.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
    start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    assert start.hparams["lr"].number_value == 0.1
    assert start.hparams["optimizer"].string_value == "sgd"
    assert start.hparams["bn"].number_value == 1.0  # a bool is an int to PyTorch: a number


def test_add_graph_and_purge_step(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    with SummaryWriter(tmp_path, purge_step=10) as writer:
        writer.add_graph(model, minigrad.randn(2, 1, 4, 4))
    graph = _read(tmp_path).Graph()
    nodes = {n.name: n for n in graph.node}
    # PyTorch's names: forward's parameter and the variables holding each value (input.3)
    conv = nodes["Sequential/Conv2d[0]/input.3"]
    assert list(conv.input) == [
        "input/input.1",
        "Sequential/Conv2d[0]/weight/weight.1",
        "Sequential/Conv2d[0]/bias/bias.1",
    ]
    assert conv.op == "aten::_convolution" and conv.attr["attr"].s == b"{}"
    assert nodes["Sequential/Conv2d[0]/bias/bias.1"].op == "prim::GetAttr"
    linear = next(n for n in graph.node if n.op == "aten::linear")
    assert [d.size for d in linear.attr["_output_shapes"].list.shape[0].dim] == [2, 3]
    assert nodes["output/output.1"].input == [linear.name]


def test_default_log_dir_with_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_exp")
    writer.close()
    assert writer.get_logdir().startswith("runs") and writer.get_logdir().endswith("_exp")
    assert (tmp_path / writer.get_logdir()).is_dir()


def test_cli_train_tensorboard(tmp_path):
    from minigrad.cli import main

    logs = tmp_path / "tb"
    argv = ["train", "linear", "--epochs", "1", "--max-steps", "3", "--no-progress"]
    assert main([*argv, "--out", str(tmp_path / "out"), "--tensorboard", str(logs)]) == 0
    events = _read(logs)
    assert len(events.Scalars("train/loss")) == 3
    assert events.Scalars("epoch/test_accuracy")[0].step == 1
    assert events.Graph().node
    assert _read(logs / "hparams").Scalars("hparam/test_accuracy")


def test_add_embedding_writes_the_projector_files_as_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    mat = np.arange(12.0).reshape(4, 3) / 7
    for name, lib, writer_cls in (("m", minigrad, SummaryWriter), ("t", torch, TorchWriter)):
        with writer_cls(str(tmp_path / name)) as writer:
            writer.add_embedding(lib.tensor(mat), metadata=list("abcd"), tag="points")
            writer.add_embedding(
                lib.tensor(mat[:2]), metadata=[["x", 1], ["y", 2]], metadata_header=["name", "n"],
                global_step=3, tag="pairs",
            )  # fmt: skip
    for rel in ("projector_config.pbtxt", "00000/points/metadata.tsv", "00003/pairs/metadata.tsv"):
        assert (tmp_path / "m" / rel).read_text() == (tmp_path / "t" / rel).read_text()
    for rel in ("00000/points/tensors.tsv", "00003/pairs/tensors.tsv"):
        got = np.loadtxt(tmp_path / "m" / rel, delimiter="\t", ndmin=2)
        want = np.loadtxt(tmp_path / "t" / rel, delimiter="\t", ndmin=2)
        np.testing.assert_allclose(got, want, rtol=1e-6)
