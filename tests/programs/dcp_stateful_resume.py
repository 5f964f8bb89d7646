"""Checkpointing with ``torch.distributed.checkpoint`` as torchtitan and the DCP recipe write it,
in one process: an ``AppState(Stateful)`` bundling model and optimizer through
``get_state_dict``/``set_state_dict``, ``dcp.save(state, checkpoint_id=...)`` every few steps
into step folders, ``dcp.load`` in place into a freshly built model and optimizer to resume,
``get_model_state_dict(..., options=StateDictOptions(full_state_dict=True))`` for an export,
the checkpoint's ``.metadata`` read through ``FileSystemReader``, and ``dcp_to_torch_save`` to
convert to a plain ``torch.save`` file; the resumed run must equal an uninterrupted one."""

import os
import tempfile

import torch
import torch.distributed.checkpoint as dcp
import torch.nn as nn
import torch.nn.functional as F
from torch.distributed.checkpoint.format_utils import dcp_to_torch_save
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_state_dict,
    set_state_dict,
)
from torch.distributed.checkpoint.stateful import Stateful


class AppState(Stateful):
    def __init__(self, model, optimizer=None):
        self.model = model
        self.optimizer = optimizer

    def state_dict(self):
        model_state_dict, optimizer_state_dict = get_state_dict(self.model, self.optimizer)
        return {"model": model_state_dict, "optim": optimizer_state_dict}

    def load_state_dict(self, state_dict):
        set_state_dict(
            self.model,
            self.optimizer,
            model_state_dict=state_dict["model"],
            optim_state_dict=state_dict["optim"],
        )


def build():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.LayerNorm(16), nn.ReLU(), nn.Linear(16, 1))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)
    return model, opt


def step(model, opt, i):
    g = torch.Generator().manual_seed(100 + i)
    x = torch.randn(8, 6, generator=g)
    y = x.sum(1, keepdim=True).sin()
    loss = F.mse_loss(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


root = tempfile.mkdtemp()
model, opt = build()
straight = [step(model, opt, i) for i in range(8)]
straight_weight = model[0].weight.detach().clone()

model, opt = build()
first_half = []
for i in range(8):
    first_half.append(step(model, opt, i))
    if (i + 1) % 2 == 0:
        dcp.save({"app": AppState(model, opt)}, checkpoint_id=os.path.join(root, f"step-{i + 1}"))
    if i == 3:
        break
folders = sorted(os.listdir(root))

model, opt = build()
state = {"app": AppState(model, opt)}
dcp.load(state, checkpoint_id=os.path.join(root, "step-4"))
opt_state = opt.state_dict()
resumed_step = opt_state["state"][0]["step"].item()
resumed = first_half + [step(model, opt, i) for i in range(4, 8)]
resume_gap = (model[0].weight - straight_weight).abs().max().item()

full = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
full_keys = sorted(full)
reader = dcp.FileSystemReader(os.path.join(root, "step-4"))
metadata = reader.read_metadata()
stored = sorted(k for k in metadata.state_dict_metadata if k.startswith("app.model"))
weight_meta = metadata.state_dict_metadata["app.model.0.weight"]
weight_info = (list(weight_meta.size), str(weight_meta.properties.dtype))

torch_file = os.path.join(root, "step-4.pt")
dcp_to_torch_save(os.path.join(root, "step-4"), torch_file)
plain = torch.load(torch_file, weights_only=True)
plain_keys = sorted(plain["app"]["model"])
plain_step = plain["app"]["optim"]["state"]["0.weight"]["step"].item()
print(f"resumed from step {resumed_step:.0f}: gap {resume_gap:.2e}, folders {folders}")
