"""Pictures of the autograd graph: DOT source, Graphviz rendering, boxes for modules.

Example:
    >>> with minigrad.viz.trace_modules(model) as trace:
    ...     loss = ((model(x) - y) ** 2).mean()
    >>> loss.backward()
    >>> minigrad.viz.draw_graph(loss, module=trace, grad_heat=True).render(
    ...     outfile="step.svg")
"""

from .dot import to_dot
from .modules import ModuleTrace, trace_modules
from .render import GraphvizNotFoundError, draw_graph, save_graph

__all__ = [
    "GraphvizNotFoundError",
    "ModuleTrace",
    "draw_graph",
    "save_graph",
    "to_dot",
    "trace_modules",
]
