"""``draw_graph``: the picture as a ``graphviz.Digraph`` (the ``viz`` extra), with clear errors."""

from __future__ import annotations

import pathlib

from ..tensor import Tensor
from .dot import dot_body, to_dot
from .modules import ModuleTrace

INSTALL_PACKAGE = (
    "minigrad.viz.draw_graph needs the graphviz Python package: pip install 'minigrad[viz]' "
    "(or pip install graphviz). minigrad.viz.to_dot gives the DOT source without it."
)
INSTALL_BINARY = (
    "rendering the graph needs the Graphviz 'dot' program, which was not found on PATH. "
    "Install Graphviz: apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS), "
    "conda install graphviz, or see https://graphviz.org/download/. "
    "minigrad.viz.to_dot gives the DOT source without it."
)


class GraphvizNotFoundError(RuntimeError):
    """Raised when rendering needs the Graphviz ``dot`` program and it is not installed."""


_digraph_class = None


def draw_graph(
    *outputs: Tensor,
    params=None,
    show_shapes: bool = True,
    show_saved: bool = False,
    grad_heat: bool = False,
    module: ModuleTrace | None = None,
    depth: int | None = None,
    rankdir: str = "TB",
):
    """The graph picture as a ``graphviz.Digraph``: render it to a file or show it in Jupyter.

    Takes the arguments of :func:`minigrad.viz.to_dot`; its ``.source`` is that DOT text.
    Needs the ``graphviz`` package (``pip install 'minigrad[viz]'``); rendering also needs the
    Graphviz ``dot`` program, and raises :class:`GraphvizNotFoundError` saying how to install
    it when it is missing.

    Example:
        >>> g = minigrad.viz.draw_graph(loss, params=model, grad_heat=True)
        >>> g.render("step", format="svg", cleanup=True)   # writes step.svg
        'step.svg'
    """
    body = dot_body(outputs, params, show_shapes, show_saved, grad_heat, module, depth, rankdir)
    return _digraph()(name="minigrad", body=body)


FORMATS = ("svg", "png", "pdf", "dot")


def save_graph(path, *outputs: Tensor, format: str | None = None, **options) -> pathlib.Path:
    """Write the picture of the graph behind ``outputs`` to ``path``; returns the path written.

    Args:
        path: the file to write; its suffix gives the format unless ``format`` is set.
        *outputs: the tensors to draw.
        format: ``"svg"``, ``"png"``, ``"pdf"``, or ``"dot"`` (the DOT text: needs no Graphviz).
        **options: the keyword arguments of :func:`minigrad.viz.to_dot`.

    Example:
        >>> minigrad.viz.save_graph("step.svg", loss, module=trace, grad_heat=True)
        PosixPath('step.svg')
    """
    path = pathlib.Path(path)
    fmt = (format or path.suffix.lstrip(".") or "svg").lower()
    fmt = "dot" if fmt == "gv" else fmt
    if fmt not in FORMATS:
        raise ValueError(f"save_graph: format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        path.write_text(to_dot(*outputs, **options), encoding="utf-8")
    else:  # cleanup: graphviz also writes the DOT source beside the picture; drop it
        draw_graph(*outputs, **options).render(outfile=path, format=fmt, cleanup=True)
    return path


def _digraph():
    """A ``graphviz.Digraph`` subclass whose rendering explains how to install Graphviz."""
    global _digraph_class
    if _digraph_class is not None:
        return _digraph_class
    try:
        import graphviz
    except ImportError as err:
        raise ImportError(INSTALL_PACKAGE) from err

    def explained(method):
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except graphviz.ExecutableNotFound as err:
                raise GraphvizNotFoundError(INSTALL_BINARY) from err

        call.__name__, call.__doc__ = method.__name__, method.__doc__
        return call

    class Digraph(graphviz.Digraph):
        render = explained(graphviz.Digraph.render)
        pipe = explained(graphviz.Digraph.pipe)

    Digraph.__module__ = __name__
    _digraph_class = Digraph
    return Digraph
