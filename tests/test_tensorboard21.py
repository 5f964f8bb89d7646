"""SummaryWriter protos compared with torch.utils.tensorboard's for the same inputs."""

import numpy as np
import pytest

pytest.importorskip("tensorboard")
torch = pytest.importorskip("torch")
from torch.utils.tensorboard import summary as tsummary  # noqa: E402

from minigrad.utils.tensorboard import _summary  # noqa: E402

_RNG = np.random.default_rng(0)
_HIST_CASES = [
    (_RNG.standard_normal((4, 8)), "tensorflow", None),
    (np.full(5, 3.0), "tensorflow", None),
    (np.array([2.5]), "tensorflow", None),
    (-_RNG.random(20), "tensorflow", None),
    (np.arange(10), "tensorflow", None),
    (np.zeros(4), "tensorflow", None),
    (np.full(3, -1.0), 10, None),
    (_RNG.standard_normal(50), "auto", None),
    (_RNG.standard_normal(50), np.linspace(-3, 3, 7), None),
    (_RNG.standard_normal(100), "tensorflow", 7),
    (_RNG.standard_normal(100), 30, 7),
    (_RNG.standard_normal(100), "fd", 3),
]


def test_tensorflow_bins_equal_pytorchs(tmp_path):
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    writer = TorchWriter(tmp_path)
    assert _summary.tensorflow_bins().tolist() == writer.default_bins
    writer.close()


@pytest.mark.parametrize("values,bins,max_bins", _HIST_CASES)
def test_histogram_proto_equals_pytorchs(values, bins, max_bins):
    torch_bins = (
        _summary.tensorflow_bins() if isinstance(bins, str) and bins == "tensorflow" else bins
    )
    expected = tsummary.histogram("h", torch.tensor(values), torch_bins, max_bins=max_bins)
    got = _summary.histogram("h", values, bins, max_bins)
    assert got.SerializeToString() == expected.SerializeToString()


def _canonical(summary):
    """The summary with hparams plugin data re-serialized deterministically (map order sorted)."""
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    for value in summary.value:
        data = value.metadata.plugin_data
        if data.plugin_name == "hparams":
            parsed = HParamsPluginData.FromString(data.content)
            data.content = parsed.SerializeToString(deterministic=True)
    return summary


def _events(logdir):
    """{run dir: [(step, Summary or graph bytes)]} from every event file under logdir."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    runs = {}
    for path in sorted(logdir.rglob("events.out.tfevents.*")):
        events = []
        for event in LegacyEventFileLoader(str(path)).Load():
            if event.HasField("summary"):
                events.append((event.step, _canonical(event.summary)))
            elif event.HasField("graph_def"):
                events.append((event.step, event.graph_def))
        runs[str(path.parent.relative_to(logdir))] = events
    return runs


def _log_plugins(lib, writer):
    rng = np.random.default_rng(1)
    img = rng.random((3, 10, 12)).astype(np.float32)
    writer.add_tensor("t", lib.tensor(rng.standard_normal((2, 3))), 1)
    writer.add_tensor("ti", lib.tensor(np.arange(4)), 2)
    writer.add_tensor("tb", lib.tensor(np.array([True, False])), 2)
    writer.add_histogram_raw("raw", -1.0, 2.0, 5, 3.5, 9.25, [0.0, 1.0, 2.0], [1, 2, 2], 3)
    writer.add_audio("snd", lib.tensor(np.sin(np.arange(200) / 5.0)), 4, sample_rate=8000)
    labels = rng.integers(0, 2, 40)
    preds = rng.random(40)
    writer.add_pr_curve("pr", lib.tensor(labels), lib.tensor(preds), 5)
    writer.add_pr_curve("pr_w", labels, preds, 5, num_thresholds=200, weights=preds)
    counts = [np.array([3.0, 2.0, 1.0])] * 6
    writer.add_pr_curve_raw("prr", *counts, 6, num_thresholds=3)
    writer.add_custom_scalars({"cat": {"loss": ["Multiline", ["a", "b"]], "m": ["Margin", "xyz"]}})
    writer.add_custom_scalars_multilinechart(["a", "b"], category="c1", title="t1")
    writer.add_custom_scalars_marginchart(["v", "lo", "hi"])
    verts = rng.random((1, 4, 3)).astype(np.float32)
    faces = np.array([[[0, 1, 2], [1, 2, 3]]])
    colors = np.full((1, 4, 3), 200, dtype=np.uint8)
    writer.add_mesh("mesh", lib.tensor(verts), lib.tensor(colors), lib.tensor(faces), None, 7)
    writer.add_mesh("cloud", lib.tensor(verts), config_dict={"camera": {"fov": 75}}, global_step=8)
    writer.add_image("img", lib.tensor(img), 9)
    writer.add_image("hwc", img.transpose(1, 2, 0), 9, dataformats="HWC")
    writer.add_image("hw", (img[0] * 255).astype(np.uint8), 9, dataformats="HW")
    writer.add_images("nhwc", lib.tensor(rng.random((10, 4, 5, 1))), 9, dataformats="NHWC")
    boxes = lib.tensor(np.array([[1.0, 1.0, 6.0, 7.0], [2.0, 0.0, 9.0, 5.0]]))
    writer.add_image_with_boxes("boxes", lib.tensor(img), boxes, 10, labels=["a", "b"])
    writer.add_image_with_boxes("boxes2", lib.tensor(img), boxes, 10, rescale=2, labels="x")
    writer.add_text("txt", "hello **there**", 11)


def _compare(tmp_path, log):
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    import minigrad
    from minigrad.utils.tensorboard import SummaryWriter

    for name, lib, writer_cls in (("t", torch, TorchWriter), ("m", minigrad, SummaryWriter)):
        with writer_cls(tmp_path / name) as writer:
            log(lib, writer)
    return _events(tmp_path / "t"), _events(tmp_path / "m")


def test_plugin_summaries_equal_pytorchs(tmp_path):
    expected, got = _compare(tmp_path, _log_plugins)
    assert got == expected


def test_add_video_without_moviepy_prints_as_pytorch(tmp_path, capsys):
    try:
        import moviepy  # noqa: F401

        pytest.skip("moviepy is installed")
    except ImportError:
        pass

    def log(lib, writer):
        writer.add_video("v", lib.tensor(np.random.default_rng(0).random((3, 2, 3, 4, 4))), 1)

    expected, got = _compare(tmp_path, log)
    assert got == expected
    assert capsys.readouterr().out.count("add_video needs package moviepy") == 2


def test_add_onnx_graph_equals_pytorchs(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    nodes = [
        helper.make_node("Relu", ["x"], ["h"]),
        helper.make_node("LeakyRelu", ["h"], ["y"], alpha=0.1),
    ]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y]))
    onnx.save(model, str(tmp_path / "m.onnx"))
    expected, got = _compare(tmp_path, lambda lib, w: w.add_onnx_graph(str(tmp_path / "m.onnx")))
    assert got == expected and len(got["."]) == 1


def _log_core(lib, writer):
    writer.add_scalar("s", lib.tensor(2.5), 1)
    writer.add_scalar("s_new", 0.1, 1, new_style=True)
    writer.add_scalar("s_double", 0.1, 1, new_style=True, double_precision=True)
    writer.add_scalars("run/loss", {"train": 1.0, "val/x": lib.tensor([2.0])}, 3, walltime=5.0)
    writer.add_histogram("w", lib.tensor(np.linspace(-1, 1, 32).reshape(4, 8)), 2)
    writer.add_text("note", "minigrad *ok*", 4)
    hparams = {"lr": 0.1, "opt": "adam", "flag": True, "n": 3, "t": lib.tensor([0.5])}
    domains = {"opt": ["adam", "sgd"], "n": [3, 4]}
    writer.add_hparams(hparams, {"acc": 0.9}, domains, run_name="hp", global_step=6)


def test_core_summaries_and_run_layout_equal_pytorchs(tmp_path):
    expected, got = _compare(tmp_path, _log_core)
    assert sorted(got) == ["."] + ["hp", "run_loss_train", "run_loss_val/x"]
    assert got == expected


def test_add_embedding_files_equal_pytorchs_byte_for_byte(tmp_path):
    rng = np.random.default_rng(2)
    mat, images = rng.standard_normal((5, 3)).astype(np.float32), rng.random((5, 3, 4, 4))

    def log(lib, writer):
        writer.add_embedding(lib.tensor(mat), list("abcde"), tag="a/b%c")
        writer.add_embedding(
            lib.tensor(np.arange(10).reshape(5, 2)),
            [["x", i] for i in range(5)],
            label_img=lib.tensor(images),
            global_step=2,
            metadata_header=["name", "i"],
        )

    _compare(tmp_path, log)
    files = sorted(p.relative_to(tmp_path / "t") for p in (tmp_path / "t").rglob("*.*"))
    files = [f for f in files if "tfevents" not in str(f)]
    assert len(files) == 6
    for rel in files:
        assert (tmp_path / "m" / rel).read_bytes() == (tmp_path / "t" / rel).read_bytes(), rel


def _graph_layout(nodes):
    """Sorted (op, scope) of the nodes minus PyTorch's constant plumbing, and GetAttr names."""
    nodes = [n for n in nodes if n.op not in ("prim::Constant", "prim::ListConstruct")]
    ops = sorted((n.op, n.name.rpartition("/")[0]) for n in nodes)
    # PyTorch's JIT suffixes repeated debug names (weight.1); minigrad's names carry no suffix
    return ops, sorted(n.name.split(".")[0] for n in nodes if n.op == "prim::GetAttr")


def test_add_graph_layout_follows_pytorchs_for_an_mlp_with_a_submodule():
    from torch.utils.tensorboard._pytorch_graph import graph

    import minigrad
    from minigrad.utils.tensorboard._graph import model_graph
    from minigrad.utils.tensorboard._summary import graph_def

    def build(nn):
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
                self.head = nn.Linear(4, 2)

            def forward(self, x):
                return self.head(self.body(x))

        return Block()

    expected = graph(build(torch.nn), torch.zeros(2, 3))[0].node
    got = graph_def(model_graph(build(minigrad.nn), minigrad.zeros(2, 3))).node
    assert _graph_layout(got) == _graph_layout(expected)
    assert {(n.op, n.attr["attr"].s) for n in got} == {(n.op, n.attr["attr"].s) for n in expected}
