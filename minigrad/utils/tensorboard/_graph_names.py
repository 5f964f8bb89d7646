"""The nodes of TensorBoard's model graph laid out and named as PyTorch's traced graph.

- The ops applied inside one library call (``F.batch_norm``, ``F.linear``, ``x.view``) are one
  ``aten::`` node named by that call, as PyTorch's tracer records one ATen op for it.
- Each value has a *debug name*: an input its ``forward`` parameter's name, a parameter its
  attribute's name, any other value the name of the variable that held it where an op first
  used it (see :mod:`._frames`), else a number. Names are unique as in PyTorch's JIT: when a
  name is taken again, the value that had it is renamed ``name.1`` (then ``name.3``, ...).
- A node is named ``<scope>/<its value's debug name>``: ``Net/Linear[fc1]/input.1``; a
  parameter is a ``prim::GetAttr`` node ``<scope>/<attr>/<debug name>`` just before its use;
  inputs and outputs are ``IO Node`` s ``input/x`` and ``output/output.1``.
"""

from __future__ import annotations

from .._tracing import ModuleCall, flatten
from ._graph import aten_name

# library functions whose ATen op has another name in PyTorch's traced graphs
_ATEN_OF = {"conv1d": "_convolution", "conv2d": "_convolution", "conv3d": "_convolution",
            "conv_transpose1d": "_convolution", "conv_transpose2d": "_convolution",
            "conv_transpose3d": "_convolution", "tensor_softmax": "softmax"}  # fmt: skip


# ops whose tensor inputs are one list (``torch.cat([a, b])``): a prim::ListConstruct first
_LIST_OPS = {"cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack",
             "column_stack", "block_diag", "cartesian_prod", "broadcast_tensors", "meshgrid"}  # fmt: skip


class _Names:
    """Debug names, unique as ``torch::jit::Value::setDebugName`` makes them."""

    def __init__(self):
        self.owner, self.name, self._suffix = {}, {}, {}

    def set(self, key, name: str) -> None:
        old = self.owner.get(name)
        if old is not None and old != key:  # the old owner moves to name.N
            n = max(1, self._suffix.get(name, 0) + 1)
            while f"{name}.{n}" in self.owner:
                n += 1
            self._suffix[name] = n + 1
            self.owner[f"{name}.{n}"], self.name[old] = old, f"{name}.{n}"
        self.owner[name], self.name[key] = key, name


class GraphBuilder:
    """Collects the nodes; value keys are resolved to node names at the end."""

    def __init__(self, model, params: dict, records: list, scopes: list, steps: list):
        self.model_name = type(model).__name__
        self.params, self.records, self.scopes, self.steps = params, records, scopes, steps
        self.names, self.count = _Names(), 0
        self.made = {}  # id(tensor) or id(array) -> value key
        self.nodes = []  # [name template (a callable), op, [value keys], shape, attrs]

    def _new_value(self) -> int:
        self.count += 1
        return self.count

    def _key(self, t):
        return self.made.get(id(t)) or self.made.get(id(t._data))

    def _bind(self, t, key) -> None:
        self.made[id(t)] = self.made[id(t._data)] = key

    def build(self, inputs, input_names, output) -> list:
        self.used_after = {}  # id(tensor) -> the last record using it (the output: past all)
        for k, (_, op_args, _) in enumerate(self.records):
            for t in flatten(list(op_args)):
                self.used_after[id(t)] = self.used_after[id(t._data)] = k
        for t in flatten(output):
            self.used_after[id(t)] = self.used_after[id(t._data)] = len(self.records)
        for t, name in zip(inputs, input_names):
            key = self._new_value()
            self.names.set(key, name)
            self._bind(t, key)
            self._node(lambda n: f"input/{n}", "IO Node", [], t.shape, "", key)
        outputs_at = len(self.nodes)
        for group in self._groups():
            self._group_node(group)
        self._outputs(flatten(output), outputs_at)
        self._templates = {node[5]: node[0] for node in self.nodes}
        return [self._resolve(node) for node in self.nodes]

    def _node(self, name_of, op, ins, shape, attr, key):
        shape = None if shape is None else tuple(shape)
        self.nodes.append([name_of, op, ins, shape, {"attr": attr}, key])

    def _resolve(self, node):
        name_of, op, ins, shape, attrs, key = node
        ins = [k if isinstance(k, _Source) else self._node_name(k) for k in ins]
        return (self._node_name(key), op, ins, shape, attrs)

    def _node_name(self, key) -> str:
        return self._templates[key](self.names.name.get(key) or str(key))

    def _groups(self):
        """Runs of records applied inside one library call (one frame), in order."""
        group, frame = [], None
        for k, step in enumerate(self.steps):
            if group and (step[0] is None or step[0] is not frame):
                yield group
                group = []
            group.append(k)
            frame = step[0]
        if group:
            yield group

    def _group_node(self, group) -> None:
        first, last = group[0], group[-1]
        op, _, result = self.records[last]
        inside = set()  # the values made by the group's records so far
        ins = []  # (position in the call, first use, tensor, record)
        for k in group:
            for t in flatten(list(self.records[k][1])):
                if id(t) not in inside and id(t._data) not in inside:
                    if all(id(t) != id(other) for _, _, other, _ in ins):
                        at = self.steps[first][3].get(id(t), len(ins) + 1000)
                        ins.append((at, len(ins), t, k))
            inside.update(i for t in flatten(self.records[k][2]) for i in (id(t), id(t._data)))
        scope = self.scopes[first]
        getattrs_at = len(self.nodes)
        keys = [
            self._input_key(t, self.steps[k][2].get(id(t)), self.scopes[k])
            for _, _, t, k in sorted(ins, key=lambda e: e[:2])
        ]
        # PyTorch reads a call's parameters last to first, each just before the call
        self.nodes[getattrs_at:] = self.nodes[getattrs_at:][::-1]
        outs = self._group_outputs(group)
        shape = outs[0].shape if len(outs) == 1 else None
        if isinstance(op, ModuleCall) and hasattr(op.module, "_flat_weights_names"):
            if op.module.mode == "LSTM" and len(keys) > 1:  # (h_0, c_0) as one list
                keys[1:] = [self._list(keys[1:], scope)]
            keys.append(self._weights_list(op.module, scope))
        if self.steps[first][1] in _LIST_OPS:  # their tensors come as one list value
            keys = [self._list(keys, scope)]
        key = self._new_value()
        self._node(lambda n, s=scope: f"{s}/{n}", self._aten(group, op, shape), keys, shape,
                   "{}", key)  # fmt: skip
        if len(outs) == 1:
            self._bind(outs[0], key)
            return
        if isinstance(op, ModuleCall):  # one node per output, as PyTorch's graph shows them
            self._bind(outs[0], key)
            self.nodes[-1][3] = tuple(outs[0].shape)
            for t in outs[1:]:
                self._bind(t, self._new_value())
                self._node(lambda n, s=scope: f"{s}/{n}", self.nodes[-1][1], keys, t.shape,
                           "{}", self._key(t))  # fmt: skip
            return
        for t in outs:  # a list of tensors (chunk, split): PyTorch unpacks it, one node each
            self._bind(t, self._new_value())
            self._node(lambda n, s=scope: f"{s}/{n}", "prim::ListUnpack", [key], t.shape, "{}",
                       self._key(t))  # fmt: skip

    def _weights_list(self, module, scope):
        """A recurrent layer's weights as PyTorch passes them: one ``prim::ListConstruct`` of
        their ``prim::GetAttr`` reads (made last to first)."""
        at = len(self.nodes)
        weights = [getattr(module, w) for w in module._flat_weights_names]
        listed = [self._input_key(w, None, scope) for w in weights]
        self.nodes[at:] = self.nodes[at:][::-1]
        return self._list(listed, scope)

    def _list(self, keys, scope):
        """A ``prim::ListConstruct`` of the values ``keys``; its value's key."""
        key = self._new_value()
        self._node(lambda n, s=scope: f"{s}/{n}", "prim::ListConstruct", keys, None, "{}", key)
        return key

    def _group_outputs(self, group) -> list:
        """The tensors a group's records make that are used after it (or are the output)."""
        outs, seen = [], set()
        for k in group:
            for t in flatten(self.records[k][2]):
                last = max(self.used_after.get(id(t), -1), self.used_after.get(id(t._data), -1))
                if id(t) not in seen and (k == group[-1] or last > group[-1]):
                    outs.append(t)
                    seen.add(id(t))
        return outs

    def _aten(self, group, op, shape) -> str:
        name = self.steps[group[0]][1]
        if isinstance(op, ModuleCall):  # a dropout or recurrent layer
            return "aten::" + name
        if name in ("slice", "getitem"):  # x[...]: PyTorch's op for the kind of index
            key = getattr(op, "key", ())
            key = key if isinstance(key, tuple) else (key,)
            if any(hasattr(k, "shape") for k in key):
                return "aten::index"
            return "aten::select" if any(isinstance(k, int) for k in key) else "aten::slice"
        if name is None:
            return aten_name(op.label(), None if shape is None else len(shape))
        return "aten::" + _ATEN_OF.get(name, name)

    def _input_key(self, t, debug, scope):
        key = self._key(t)
        if key is not None:
            if debug and key not in self.names.name:
                self.names.set(key, debug)
            return key
        key = self._new_value()
        if id(t) in self.params:  # a prim::GetAttr per use, named by the attribute
            owner_scope, attr, source = self.params[id(t)]
            self.names.set(key, attr)
            self._node(lambda n, s=owner_scope, a=attr: f"{s}/{a}/{n}", "prim::GetAttr",
                       [], None, f"{{ name :  {attr} }}", key)  # fmt: skip
            if source is not None:
                self.nodes[-1][2] = [_Source(source)]
            return key
        self._bind(t, key)  # a tensor made inside forward: a constant
        self._node(lambda n, s=scope: f"{s}/{n}", "prim::Constant", [], t.shape,
                   "{ value : tensor}", key)  # fmt: skip
        return key

    def _outputs(self, outs, at: int) -> None:
        keys = [self._key(t) or self._input_key(t, None, self.model_name) for t in outs]
        if len(keys) != 1:
            key = self._new_value()
            self._node(lambda n: f"{self.model_name}/{n}", "prim::TupleConstruct", keys,
                       None, "{}", key)  # fmt: skip
            keys, shape = [key], (1,)  # (PyTorch writes a tuple's shape as [1])
        else:
            shape = outs[0].shape
        out_key = self._new_value()
        self.names.set(out_key, "output.1")
        node = [lambda n: f"output/{n}", "IO Node", keys, shape, {"attr": ""}, out_key]
        self.nodes.insert(at, node)


class _Source(str):
    """A node name that is not a value of the graph (a GetAttr's module), kept as it is."""
