"""examples/tour.ipynb runs from top to bottom, and is kept in git without outputs."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "tour.ipynb"


def test_notebook_is_stored_without_outputs():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)


@pytest.mark.slow
def test_notebook_runs(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    pytest.importorskip("graphviz")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this checkout's minigrad
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    plain = text + "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "test accuracy" in text
    assert plain.count("Total params") == 1  # summary() shown once, as the cell's result
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the loss curve
    shown = [o.get("data", {}) for o in outputs]
    assert any("image/svg+xml" in d for d in shown) or "digraph" in text  # the graph
