"""Loading an edited file runs none of its code: ``minigrad.export.load`` checks the node
records (shared with ``jit.load``, see ``minigrad/export/_safe_records.py``) before it builds
or generates anything from them, and ``minigrad.load(weights_only=True)`` refuses a pickle that
names ``os.system`` as PyTorch does. Each attack must leave its marker file unwritten."""

import functools
import io
import json
import os
import pickle
import zipfile

import pytest

import minigrad
from minigrad import nn
from minigrad.export import export, load, save


class Net(nn.Module):
    """A graph with every kind of node record: a layer, a function with keywords, a method,
    an operator and a property read through getattr."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.act = nn.Tanh()

    def forward(self, x):
        y = nn.functional.dropout(self.fc(x), p=0.0, training=False).relu()
        return self.act(y) * x.shape[0]


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return minigrad.cond(x.sum() > 0, lambda v: self.fc(v), lambda v: -v, (x,))


@functools.cache
def _file(cls) -> bytes:
    buffer = io.BytesIO()
    save(export(cls(), (minigrad.randn(2, 3),)), buffer)
    return buffer.getvalue()


def _saved(cls) -> dict:
    """The payload ``export.save`` writes for a ``cls`` (exported once), its meta parsed."""
    payload = minigrad.load(io.BytesIO(_file(cls)))
    payload["meta"] = json.loads(payload["meta"])
    return payload


def _load(payload: dict):
    payload = {**payload, "meta": json.dumps(payload["meta"])}
    buffer = io.BytesIO()
    minigrad.save(payload, buffer)
    buffer.seek(0)
    return load(buffer)


def _record(meta: dict, op: str, target=None) -> list:
    return next(r for r in meta["records"] if r[1] == op and target in (None, r[2]))


def _marker(tmp_path) -> str:
    return str(tmp_path / "ran")


def test_an_unedited_file_loads():
    payload = _saved(Net)
    targets = {(r[1], r[2]) for r in payload["meta"]["records"]}
    assert ("call_function", "builtins.getattr") in targets
    assert ("call_method", "relu") in targets and ("call_module", "act") in targets
    x = minigrad.randn(2, 3)
    loaded = _load(payload)
    assert minigrad.allclose(loaded.module()(x), loaded.module()(x))


def _run_code(tmp_path) -> str:
    return f'open("{_marker(tmp_path)}", "w").close()'


def _set(record: list, index: int, value) -> None:
    record[index] = value


# (what the error must name, the edit of the meta given code that would write the marker)
ATTACKS = {
    # a function named outright, with the code as its argument
    "exec": ("'builtins.exec'", lambda m, code: _record(m, "call_function", "builtins.getattr")
             .__setitem__(slice(2, 4), ["builtins.exec", {"tuple": [code]}])),
    # a dotted path outside minigrad, operator and math
    "os.system": ("outside minigrad", lambda m, code: _set(_record(m, "call_function"), 2,
                                                           "os.system")),
    # paths into dunders, to reach builtins from a minigrad name
    "__builtins__": ("'minigrad.__builtins__.exec'", lambda m, code: _set(
        _record(m, "call_function"), 2, "minigrad.__builtins__.exec")),
    "__globals__": ("relu.__globals__", lambda m, code: _set(
        _record(m, "call_function"), 2, "minigrad.nn.functional.relu.__globals__.exec")),
    # minigrad's and operator's functions that are not ops a graph calls
    "minigrad.save": ("not an op: 'minigrad.save'", lambda m, code: _set(
        _record(m, "call_function"), 2, "minigrad.save")),
    "methodcaller": ("'operator.methodcaller'", lambda m, code: _set(
        _record(m, "call_function"), 2, "operator.methodcaller")),
    # getattr of something other than a public Tensor property
    "getattr": ("getattr of a public Tensor property", lambda m, code: _set(
        _record(m, "call_function", "builtins.getattr")[3]["tuple"], 1, "__class__")),
    # code hidden in a node name, a placeholder's target, a method name, a keyword
    "node name": ("node name 'x = open(", lambda m, code: _set(
        _record(m, "call_method"), 0, f"x = {code}")),
    "placeholder": ("'*x=open(", lambda m, code: _set(
        _record(m, "placeholder"), 2, f"*x={code}")),
    "method": ("not a public Tensor method: 'relu() or open(", lambda m, code: _set(
        _record(m, "call_method"), 2, f"relu() or {code} #")),
    "keyword": ("keyword 'p=open(", lambda m, code: _set(
        _record(m, "call_function", "minigrad.nn.functional.dropout")[4]["dict"],
        f"p={code},q", 0.0)),
    # attribute paths: a submodule that is not the file's, a dunder layer path
    "call_module": ("not one of the file's: '__class__'", lambda m, code: _set(
        _record(m, "call_module"), 2, "__class__")),
    "layer path": ("path '__class__' is not", lambda m, code: _set(
        m["layers"], "__class__", "Tanh()")),
}  # fmt: skip


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_edited_graph_is_refused_naming_what(tmp_path, attack):
    payload = _saved(Net)
    expected, edit = ATTACKS[attack]
    edit(payload["meta"], _run_code(tmp_path))
    with pytest.raises(RuntimeError, match="refusing the graph") as info:
        _load(payload).module()(minigrad.randn(2, 3))
    assert expected in str(info.value)
    assert not os.path.exists(_marker(tmp_path))


def test_an_edited_signature_target_is_refused(tmp_path):
    payload = _saved(Net)
    spec = next(s for s in payload["meta"]["signature"]["inputs"] if s[2] == "fc.weight")
    spec[2] = f'fc"); {_run_code(tmp_path)}; ("'
    with pytest.raises(RuntimeError, match="refusing the graph.*signature's state path"):
        _load(payload).module()(minigrad.randn(2, 3))
    assert not os.path.exists(_marker(tmp_path))


def test_the_records_of_a_cond_branch_are_checked(tmp_path):
    payload = _saved(Gate)
    branches = payload["meta"]["branches"]
    assert set(branches) == {"true_graph_0", "false_graph_0"}
    branch = branches["false_graph_0"]
    _record(branch, "call_function").__setitem__(2, "builtins.exec")
    with pytest.raises(RuntimeError, match="node neg .*builtins.exec"):
        _load(payload)
    assert not os.path.exists(_marker(tmp_path))


def test_a_format_1_tensor_path_into_a_dunder_is_refused():
    payload = _saved(Net)
    payload["format"] = "minigrad.export/1"
    payload["graph_state"] = {"__class__": minigrad.ones(1)}
    with pytest.raises(RuntimeError, match="'__class__' is not a dotted path"):
        _load(payload)


class _System:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("archive", [False, True])
def test_minigrad_load_refuses_a_pickle_naming_os_system(tmp_path, archive):
    data = pickle.dumps({"w": _System(f"touch {_marker(tmp_path)}")}, protocol=2)
    if archive:  # inside a PyTorch zip checkpoint, as torch.save writes
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("archive/data.pkl", data)
            zf.writestr("archive/version", b"3")
        data = buffer.getvalue()
    pytorch = r"Trying to load unsupported GLOBAL (posix|nt)\.system whose module \1 is blocked"
    for weights_only in (True, None):
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed.*" + pytorch):
            minigrad.load(io.BytesIO(data), weights_only=weights_only)
    with minigrad.serialization.safe_globals([os.system]):  # blocked even when allowed
        with pytest.raises(pickle.UnpicklingError, match=pytorch):
            minigrad.load(io.BytesIO(data))
    assert not os.path.exists(_marker(tmp_path))
    torch = pytest.importorskip("torch")
    with pytest.raises(pickle.UnpicklingError, match=pytorch):  # PyTorch's words
        torch.load(io.BytesIO(data), weights_only=True)


def test_generated_code_quotes_attribute_names_that_are_not_identifiers():
    from minigrad.fx import Graph

    graph = Graph()
    graph.output(graph.get_attr('0.a"); print("x'))
    src = graph.python_code("self").src
    assert 'getattr(getattr(self, "0"), "a\\"); print(\\"x")' in src
    compile(src, "<generated>", "exec")  # one expression: the name stays a string
