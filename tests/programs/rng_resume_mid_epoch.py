"""Exact mid-epoch resumption, as fault-tolerant training loops write it: a checkpoint holds the
model, the optimizer, the LR scheduler, ``torch.get_rng_state()`` (dropout's stream), the
shuffling generator's state from before the epoch and the number of batches already done; a
fresh process-like copy restores all of it with ``set_rng_state``/``Generator.set_state``,
skips the consumed batches and continues; its losses and weights equal the uninterrupted
run's. ``torch.random.fork_rng`` keeps an evaluation's sampling out of the training stream."""

import copy
import io

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.randn(96, 6)
Y = (X[:, :3].sum(1) > X[:, 3:].sum(1)).long()
dataset = TensorDataset(X, Y)
EPOCHS, STOP_EPOCH, STOP_STEP = 3, 1, 4


def make():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    gen = torch.Generator().manual_seed(123)
    return model, opt, sched, gen


def evaluate(model):
    with torch.random.fork_rng():
        torch.manual_seed(999)  # noise for a robustness check, not seen by training
        model.eval()
        noisy = X + 0.05 * torch.randn_like(X)
        acc = (model(noisy).argmax(1) == Y).float().mean().item()
        model.train()
    return acc


def run(model, opt, sched, gen, start_epoch=0, skip=0, stop=None):
    losses, checkpoint = [], None
    for epoch in range(start_epoch, EPOCHS):
        gen_state = gen.get_state()  # the order of this epoch is drawn from here
        loader = DataLoader(dataset, batch_size=8, shuffle=True, generator=gen)
        for step, (x, y) in enumerate(loader):
            if epoch == start_epoch and step < skip:
                continue
            if stop == (epoch, step):
                buffer = io.BytesIO()
                torch.save(
                    {
                        "model": model.state_dict(),
                        "opt": opt.state_dict(),
                        "sched": sched.state_dict(),
                        "rng": torch.get_rng_state(),
                        "gen": gen_state,
                        "epoch": epoch,
                        "step": step,
                    },
                    buffer,
                )
                checkpoint = buffer.getvalue()
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        losses.append(evaluate(model))
    return losses, checkpoint


model, opt, sched, gen = make()
full_losses, checkpoint = run(model, opt, sched, gen, stop=(STOP_EPOCH, STOP_STEP))
final_weight = model[0].weight.detach().clone()

fresh, fresh_opt, fresh_sched, fresh_gen = make()
torch.manual_seed(4321)  # whatever the new process's stream is, the checkpoint overrides it
state = torch.load(io.BytesIO(checkpoint), weights_only=True)
fresh.load_state_dict(state["model"])
fresh_opt.load_state_dict(state["opt"])
fresh_sched.load_state_dict(state["sched"])
torch.set_rng_state(state["rng"])
fresh_gen.set_state(state["gen"])
resumed_losses, _ = run(
    fresh, fresh_opt, fresh_sched, fresh_gen, start_epoch=state["epoch"], skip=state["step"]
)
done = state["epoch"] * (len(dataset) // 8 + 1) + state["step"]
resume_gap = max(abs(a - b) for a, b in zip(full_losses[done:], resumed_losses))
weight_gap = (fresh[0].weight - final_weight).abs().max().item()
lr_now = [fresh_opt.param_groups[0]["lr"], opt.param_groups[0]["lr"]]
rng_state_info = [state["rng"].dtype == torch.uint8, state["rng"].numel(), state["gen"].numel()]
snapshot = copy.deepcopy(torch.get_rng_state())
after_fork = torch.rand(2).tolist()
torch.set_rng_state(snapshot)
replayed = torch.rand(2).tolist()
