"""Loading old checkpoints the way model hubs do: a BERT-style encoder whose old checkpoint
names LayerNorm parameters ``gamma``/``beta`` and carries a stale ``position_ids`` buffer; a
load-state-dict pre-hook renames the keys (as HuggingFace's loader maps gamma/beta), a post
hook drops keys listed in ``_keys_to_ignore_on_load_unexpected``, and a state-dict post hook
writes a ``format_version`` entry that the pre-hook checks; tied input/output embeddings
(``decoder.weight is embeddings.weight``) survive the round trip."""

import io

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy


class TinyEncoder(nn.Module):
    _keys_to_ignore_on_load_unexpected = ["position_ids"]

    def __init__(self, vocab=12, dim=8):
        super().__init__()
        self.embeddings = nn.Embedding(vocab, dim)
        self.LayerNorm = nn.LayerNorm(dim)
        self.dense = nn.Linear(dim, dim)
        self.decoder = nn.Linear(dim, vocab, bias=False)
        self.decoder.weight = self.embeddings.weight  # tied
        self.register_load_state_dict_pre_hook(self._rename_legacy)
        self.register_load_state_dict_post_hook(self._ignore_unexpected)
        self.register_state_dict_post_hook(self._stamp)
        self.seen_versions = []

    def forward(self, ids):
        h = self.LayerNorm(self.embeddings(ids))
        return self.decoder(torch.tanh(self.dense(h)))

    @staticmethod
    def _stamp(module, state_dict, prefix, local_metadata):
        state_dict[prefix + "format_version"] = torch.tensor(2)

    @staticmethod
    def _rename_legacy(
        module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors
    ):
        version = state_dict.pop(prefix + "format_version", torch.tensor(1))
        module.seen_versions.append(int(version))
        for key in list(state_dict):
            new = key.replace("LayerNorm.gamma", "LayerNorm.weight").replace(
                "LayerNorm.beta", "LayerNorm.bias"
            )
            if new != key:
                state_dict[new] = state_dict.pop(key)

    @staticmethod
    def _ignore_unexpected(module, incompatible_keys):
        for key in list(incompatible_keys.unexpected_keys):
            if any(pattern in key for pattern in module._keys_to_ignore_on_load_unexpected):
                incompatible_keys.unexpected_keys.remove(key)


source = init_from_numpy(TinyEncoder(), seed=15)
ids = torch.from_numpy(np.random.default_rng(22).integers(0, 12, (3, 5)))
with torch.no_grad():
    source.LayerNorm.weight.mul_(1.5)
    reference = source(ids)

current = source.state_dict()
state_keys = list(current)
legacy = {
    k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
    for k, v in current.items()
    if k != "format_version"
}
legacy["position_ids"] = torch.arange(5)
target = TinyEncoder()
result = target.load_state_dict(legacy)  # strict, and still clean
with torch.no_grad():
    legacy_gap = (target(ids) - reference).abs().max().item()
result_text = str(result)

buffer = io.BytesIO()
torch.save(source.state_dict(), buffer)
buffer.seek(0)
again = TinyEncoder()
again.load_state_dict(torch.load(buffer))
with torch.no_grad():
    roundtrip_gap = (again(ids) - reference).abs().max().item()
versions = target.seen_versions + again.seen_versions
still_tied = again.decoder.weight is again.embeddings.weight
output_values = reference[0, :2].flatten().tolist()
