"""``QConfigMapping``, as ``torch.ao.quantization.qconfig_mapping``: which qconfig FX graph mode
quantization gives each node, by module name, by the type of module or function, or globally."""

from __future__ import annotations

import re

from .qconfig import get_default_qat_qconfig, get_default_qconfig


class QConfigMapping:
    """Qconfigs by priority: ``set_module_name`` (a submodule and everything in it), then
    ``set_module_name_regex`` (the first pattern ``re.match`` finds in the qualified name), then
    ``set_object_type`` (a module class or a function such as ``minigrad.add``), then
    ``set_global``. ``None`` leaves the matching part in float.

    Example:
        >>> mapping = QConfigMapping().set_global(get_default_qconfig("x86"))
        >>> mapping.set_module_name("head", None)  # keep the head in float
    """

    def __init__(self):
        self.global_qconfig = None
        self.object_type_qconfigs: dict = {}
        self.module_name_qconfigs: dict = {}
        self.module_name_regex_qconfigs: dict = {}

    def set_global(self, global_qconfig) -> QConfigMapping:
        """The qconfig of everything nothing more specific matches."""
        self.global_qconfig = global_qconfig
        return self

    def set_object_type(self, object_type, qconfig) -> QConfigMapping:
        """The qconfig of modules of class ``object_type`` or calls of function ``object_type``."""
        self.object_type_qconfigs[object_type] = qconfig
        return self

    def set_module_name(self, module_name: str, qconfig) -> QConfigMapping:
        """The qconfig of submodule ``module_name`` (qualified) and the modules inside it."""
        self.module_name_qconfigs[module_name] = qconfig
        return self

    def set_module_name_regex(self, module_name_regex: str, qconfig) -> QConfigMapping:
        """The qconfig of the modules whose qualified names ``module_name_regex`` matches (from
        the start, ``re.match``); the first pattern set wins."""
        self.module_name_regex_qconfigs[module_name_regex] = qconfig
        return self

    def set_module_name_object_type_order(self, module_name, object_type, index, qconfig):
        """Not supported by minigrad (use ``set_module_name`` / ``set_object_type``)."""
        raise NotImplementedError(
            "QConfigMapping.set_module_name_object_type_order is not supported"
        )

    def qconfig_for(self, module_name: str | None, object_type):
        """The qconfig of a node in module ``module_name`` (None: the root) calling
        ``object_type``."""
        name = module_name
        while name:
            if name in self.module_name_qconfigs:
                return self.module_name_qconfigs[name]
            name = name.rpartition(".")[0]
        for pattern, qconfig in self.module_name_regex_qconfigs.items():
            if module_name and re.match(pattern, module_name):
                return qconfig
        if object_type in self.object_type_qconfigs:
            return self.object_type_qconfigs[object_type]
        return self.global_qconfig

    def to_dict(self) -> dict:
        """The mapping as PyTorch's qconfig dict (``""``, ``object_type``, ``module_name``)."""
        return {
            "": self.global_qconfig,
            "object_type": list(self.object_type_qconfigs.items()),
            "module_name": list(self.module_name_qconfigs.items()),
            "module_name_regex": list(self.module_name_regex_qconfigs.items()),
        }

    @classmethod
    def from_dict(cls, qconfig_dict: dict) -> QConfigMapping:
        """A mapping from PyTorch's qconfig dict form."""
        mapping = cls().set_global(qconfig_dict.get(""))
        for object_type, qconfig in qconfig_dict.get("object_type", []):
            mapping.set_object_type(object_type, qconfig)
        for name, qconfig in qconfig_dict.get("module_name", []):
            mapping.set_module_name(name, qconfig)
        for pattern, qconfig in qconfig_dict.get("module_name_regex", []):
            mapping.set_module_name_regex(pattern, qconfig)
        return mapping

    def __repr__(self) -> str:
        return (
            f"QConfigMapping (\n global_qconfig\n  {self.global_qconfig}\n object_type_qconfigs\n"
            f"  {self.object_type_qconfigs}\n module_name_qconfigs\n  {self.module_name_qconfigs}\n)"
        )


def get_default_qconfig_mapping(backend: str = "x86", version: int = 0) -> QConfigMapping:
    """The post-training mapping of ``backend``: ``get_default_qconfig(backend)`` globally.

    Example:
        >>> prepared = prepare_fx(model.eval(), get_default_qconfig_mapping("x86"), (x,))
    """
    return QConfigMapping().set_global(get_default_qconfig(backend, version))


def get_default_qat_qconfig_mapping(backend: str = "x86", version: int = 1) -> QConfigMapping:
    """The quantization-aware-training mapping of ``backend``:
    ``get_default_qat_qconfig(backend)`` globally."""
    return QConfigMapping().set_global(get_default_qat_qconfig(backend, version))


__all__ = ["QConfigMapping", "get_default_qat_qconfig_mapping", "get_default_qconfig_mapping"]
