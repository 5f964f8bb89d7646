"""``minigrad.fx``: symbolic tracing of modules into editable graphs, code generation from
them, and interpreters and passes over them (PyTorch's ``torch.fx``).

Example:
    >>> from minigrad.fx import symbolic_trace
    >>> gm = symbolic_trace(model)   # a GraphModule: runs and trains like model
    >>> print(gm.graph)              # placeholder / call_module / call_method / ... nodes
    >>> print(gm.code)               # the generated forward
"""

from . import passes, traceback
from ._symbolic_trace import Tracer, symbolic_trace, wrap
from .graph import Graph
from .graph_module import GraphModule
from .interpreter import Interpreter, Transformer
from .node import Node, map_arg
from .proxy import Proxy, TraceError
from .subgraph_rewriter import replace_pattern

__all__ = [
    "symbolic_trace", "Tracer", "wrap", "Graph", "GraphModule", "Node", "map_arg",
    "Proxy", "TraceError", "Interpreter", "Transformer", "replace_pattern", "passes",
    "traceback",
]  # fmt: skip
