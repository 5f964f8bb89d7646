"""``GraphModule.to_folder``: write a GraphModule as a Python package (``module.py`` with the
generated ``forward``, ``state_dict.pt`` with its tensors, saved without pickle)."""

from __future__ import annotations

import os
import typing

from ..nn.modules.module import Module

# globals the generated code may use, written as import lines
_KNOWN = {
    "minigrad": "import minigrad",
    "operator": "import operator",
    "inf": "from math import inf",
    "nan": "from math import nan",
    "NoneType": "NoneType = type(None)",
}


def _import_line(name: str, obj) -> str:
    """A line binding ``name`` to ``obj`` in the written module."""
    if name in _KNOWN:
        return _KNOWN[name]
    if isinstance(obj, str):  # a string annotation
        return f"{name} = {obj!r}"
    if obj is typing.Union or getattr(obj, "__module__", None) == "typing":
        return f"from typing import {getattr(obj, '_name', None) or obj.__name__} as {name}"
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    if module and qualname.isidentifier() and module != "__main__":
        return f"from {module} import {qualname} as {name}"
    raise NotImplementedError(
        f"GraphModule.to_folder: the generated code uses {obj!r}, which cannot be imported by "
        f"name; make it a module-level function of an importable module"
    )


def _module_lines(module: Module, path: str) -> list[str]:
    """Lines of ``__init__`` that rebuild ``module`` (at attribute path ``path``) with empty
    tensors of the right shapes, to be filled by ``load_state_dict``."""
    lines = []
    for name, child in module._modules.items():
        target = f"{path}.{name}" if name.isidentifier() else f'getattr({path}, "{name}")'
        if type(child) is Module:
            lines.append(f"{path}.add_module({name!r}, minigrad.nn.Module())")
            lines += _module_lines(child, target)
        elif type(child).__module__.startswith("minigrad.nn") and "\n" not in repr(child):
            lines.append(f"{path}.add_module({name!r}, minigrad.nn.{child!r})")
        else:
            raise NotImplementedError(
                f"GraphModule.to_folder: submodule {name} ({type(child).__name__}) cannot be "
                f"written as source; only minigrad.nn layers can"
            )
    for name, p in module._parameters.items():
        empty = f"minigrad.empty({list(p.shape)}, dtype={p.dtype!r})"
        lines.append(f"{path}.register_parameter({name!r}, minigrad.nn.Parameter({empty}))")
    for name, b in module._buffers.items():
        empty = f"minigrad.empty({list(b.shape)}, dtype={b.dtype!r})"
        lines.append(f"{path}.register_buffer({name!r}, {empty})")
    return lines


def to_folder(gm, folder, module_name: str = "FxModule") -> None:
    """Write ``gm`` to ``folder`` as a package whose ``module_name`` class rebuilds it.

    Example:
        >>> gm.to_folder("traced_net", "TracedNet")
        >>> from traced_net import TracedNet
        >>> TracedNet()(x)
    """
    from .. import save

    os.makedirs(folder, exist_ok=True)
    save(gm.state_dict(), os.path.join(folder, "state_dict.pt"))
    code = gm.graph.python_code("self")
    head, _, body = code.src.partition("def forward(")
    imports = ["import os", "import minigrad"]
    imports += [_import_line(n, o) for n, o in code.globals.items() if n != "minigrad"]
    init = _module_lines(gm, "self")
    forward = ("def forward(" + body).rstrip().splitlines()
    src = "\n".join(
        [f'"""{module_name}: a minigrad.fx GraphModule written by to_folder."""', "", *imports]
        + [line for line in head.splitlines() if line.strip()]
        + ["", "", f"class {module_name}(minigrad.nn.Module):", "    def __init__(self):"]
        + ["        super().__init__()"]
        + [f"        {line}" for line in init]
        + ["        here = os.path.dirname(os.path.abspath(__file__))"]
        + ['        state = minigrad.load(os.path.join(here, "state_dict.pt"))']
        + ["        self.load_state_dict(state)", ""]
        + [f"    {line}" if line.strip() else "" for line in forward]
    )
    with open(os.path.join(folder, "module.py"), "w") as f:
        f.write(src + "\n")
    with open(os.path.join(folder, "__init__.py"), "w") as f:
        f.write(f"from .module import {module_name}  # noqa: F401\n")
