"""The "Dynamic Parallelism in TorchScript" tutorial, as written for PyTorch, at toy sizes:
``torch.jit.fork`` / ``torch.jit.wait`` on a plain function and from a scripted function
(``List[torch.jit.Future[torch.Tensor]]`` annotations), a bidirectional LSTM built from two
``nn.LSTM`` runs (the backward one forked, on the flipped sequence), an ``LSTMEnsemble`` whose
members are forked and waited and whose results are stacked, a scripted function forking
over a list, and the fork results trained through."""

from typing import List

import torch
import torch.nn as nn


def foo(x):
    return torch.neg(x)


@torch.jit.script
def example(x):
    # Call `foo` using parallelism:
    # First, we "fork" off a task. This task will run `foo` with argument `x`
    future = torch.jit.fork(foo, x)

    # Call `foo` normally
    x_normal = foo(x)

    # Second, we "wait" on the task. Since the task may be running in
    # parallel, we have to "wait" for its result to become available.
    # Notice that by having lines of code between the "fork()" and "wait()"
    # call for a given Future, we can overlap computations so that they
    # run in parallel.
    x_parallel = torch.jit.wait(future)

    return x_normal, x_parallel


torch.manual_seed(0)
x_normal, x_parallel = example(torch.ones(1))
fork_results = [x_normal.tolist(), x_parallel.tolist()]


def plain_fork(xs: List[torch.Tensor]):
    futures: List[torch.jit.Future[torch.Tensor]] = []
    for x in xs:
        futures.append(torch.jit.fork(torch.sum, x))
    return [torch.jit.wait(fut) for fut in futures]


sums = [t.item() for t in plain_fork([torch.arange(4.0), torch.ones(3, 2)])]
scripted_fork = torch.jit.script(plain_fork)
scripted_sums = [t.item() for t in scripted_fork([torch.arange(4.0), torch.ones(3, 2)])]


class LSTMEnsembleMember(nn.Module):
    """The tutorial's BidirectionalRecurrentLSTM: the backward direction runs as a forked task."""

    def __init__(self):
        super().__init__()
        self.cell_f = nn.LSTM(input_size=6, hidden_size=8)
        self.cell_b = nn.LSTM(input_size=6, hidden_size=8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Forward layer - fork() so this can run in parallel to the backward
        # layer
        future_f = torch.jit.fork(self.cell_f, x)

        # Backward layer. Flip input in the time dimension (dim 0), apply the
        # layer, then flip the outputs in the time dimension
        x_rev = torch.flip(x, dims=[0])
        output_b, _ = self.cell_b(x_rev)
        output_b_rev = torch.flip(output_b, dims=[0])

        # Retrieve the output from the forward layer. Note this needs to happen
        # *after* the stuff we want to parallelize with
        output_f, _ = torch.jit.wait(future_f)

        # Concatenate the two outputs
        output = torch.cat((output_f, output_b_rev), dim=2)
        return output


class LSTMEnsemble(nn.Module):
    def __init__(self, n_models):
        super().__init__()
        self.n_models = n_models
        self.models = nn.ModuleList([LSTMEnsembleMember() for _ in range(self.n_models)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Launch tasks for each model
        futures: List[torch.jit.Future[torch.Tensor]] = []
        for model in self.models:
            futures.append(torch.jit.fork(model, x))

        # Collect the results from the launched tasks
        results: List[torch.Tensor] = []
        for future in futures:
            results.append(torch.jit.wait(future))

        return torch.sum(torch.stack(results), dim=0)


ens = LSTMEnsemble(n_models=3)
x = torch.rand(5, 2, 6)  # (seq_len, batch, features)
eager_out = ens(x)
out_shape = tuple(eager_out.shape)
# the backward direction at the last step has read the whole reversed sequence
member = ens.models[0]
manual_b = torch.flip(member.cell_b(torch.flip(x, dims=[0]))[0], dims=[0])
member_gap = (member(x)[..., 8:] - manual_b).abs().max().item()

# (the tutorial also scripts the ensemble: TorchScript takes seconds over the LSTMs, left out)

# the forked tasks are differentiable
optimizer = torch.optim.SGD(ens.parameters(), lr=0.1)
target = torch.randn(5, 2, 16)
losses = []
for step in range(4):
    optimizer.zero_grad()
    loss = (ens(x) - target).pow(2).mean()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
grad_norm = sum(p.grad.norm() ** 2 for p in ens.parameters()).sqrt().item()
