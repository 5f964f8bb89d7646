"""The "Serialization semantics" note, as its examples are written for PyTorch: saving and
loading tensors preserves views (``evens`` loaded back still shares ``numbers``' storage),
a saved slice carries its whole storage until it is ``clone()``d, saving and loading a
``BatchNorm1d``'s and a custom module's ``state_dict`` (parameters and buffers, including
``num_batches_tracked``), nested containers of tensors, numbers, strings, dtypes and Sizes in
one ``torch.save``, dtypes and ``requires_grad``/``Parameter`` kept across the round trip,
and ``weights_only=True`` refusing an arbitrary class until it is allow-listed with
``torch.serialization.safe_globals``."""

import os
import pickle
import tempfile

import torch

folder = tempfile.mkdtemp()
path = os.path.join(folder, "tensors.pt")

# Saving and loading tensors preserves views.
numbers = torch.arange(1, 10)
evens = numbers[1::2]
torch.save([numbers, evens], path)
loaded_numbers, loaded_evens = torch.load(path)
loaded_evens *= 2
views_shared = loaded_numbers.tolist()
original_untouched = numbers.tolist()

# A slice saves its whole storage; clone it to save only its elements.
large = torch.arange(1, 1000)
small = large[0:5]
torch.save(small, path)
loaded_small = torch.load(path)
storage_bytes = [loaded_small.untyped_storage().nbytes()]
torch.save(small.clone(), path)
storage_bytes.append(torch.load(path).untyped_storage().nbytes())
small_values = loaded_small.tolist()

# Saving and loading a module's state_dict.
torch.manual_seed(0)
bn = torch.nn.BatchNorm1d(3, track_running_stats=True)
bn(torch.randn(8, 3) * 2 + 1)
param_names = [name for name, _ in bn.named_parameters()]
buffer_names = [name for name, _ in bn.named_buffers()]
torch.save(bn.state_dict(), path)
bn_state_dict = torch.load(path)
new_bn = torch.nn.BatchNorm1d(3, track_running_stats=True)
new_bn.load_state_dict(bn_state_dict)
bn_keys = list(bn_state_dict.keys())
bn_running_mean = new_bn.running_mean.tolist()
bn_tracked = [int(new_bn.num_batches_tracked), str(bn_state_dict["num_batches_tracked"].dtype)]


class MyModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l0 = torch.nn.Linear(4, 2)
        self.l1 = torch.nn.Linear(2, 1)
        self.norm = torch.nn.LayerNorm(2)

    def forward(self, input):
        return self.l1(self.norm(self.l0(input)))


m = MyModule()
torch.save(m.state_dict(), path)
m_loaded = MyModule()
m_loaded.load_state_dict(torch.load(path))
module_keys = list(m.state_dict().keys())
x = torch.randn(5, 4)
module_gap = (m(x) - m_loaded(x)).abs().max().item()

# Nested containers in one file.
checkpoint = {
    "epoch": 3,
    "name": "run-a",
    "lrs": [0.1, 0.01],
    "tensors": [
        torch.ones(2, dtype=torch.float16),
        (torch.tensor([True, False]), torch.zeros(1, 2)),
    ],
    "meta": {"dtype": torch.int8, "shape": torch.Size([2, 3]), "nothing": None},
    "complex": torch.tensor([1 + 2j]),
    "param": torch.nn.Parameter(torch.ones(2)),
    "leaf": torch.ones(3, requires_grad=True),
}
torch.save(checkpoint, path)
back = torch.load(path)
nested = {
    "epoch": back["epoch"],
    "name": back["name"],
    "lrs": back["lrs"],
    "dtypes": [
        str(back["tensors"][0].dtype),
        str(back["tensors"][1][0].dtype),
        str(back["complex"].dtype),
    ],
    "inner_is_tuple": type(back["tensors"][1]).__name__,
    "meta_dtype": str(back["meta"]["dtype"]),
    "meta_shape": list(back["meta"]["shape"]),
    "meta_shape_type": type(back["meta"]["shape"]).__name__,
    "nothing": back["meta"]["nothing"],
    "param_type": type(back["param"]).__name__,
    "param_requires_grad": back["param"].requires_grad,
    "leaf_requires_grad": back["leaf"].requires_grad,
    "complex": [back["complex"].real.item(), back["complex"].imag.item()],
}


# weights_only=True (the default) refuses arbitrary classes until they are allow-listed.
class Config:
    def __init__(self, width):
        self.width = width


torch.save({"config": Config(16), "w": torch.ones(2)}, path)
try:
    torch.load(path)
    weights_only_error = None
except pickle.UnpicklingError as e:
    weights_only_error = "Weights only load failed" in str(e)
with torch.serialization.safe_globals([Config]):
    allowed = torch.load(path)
allowed_width = allowed["config"].width
unsafe = torch.load(path, weights_only=False)["config"].width
