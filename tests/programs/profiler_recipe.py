"""The PyTorch profiler recipe on a small CNN: profile(activities=[ProfilerActivity.CPU],
record_shapes=True) around inference with a record_function("model_inference") label,
key_averages().table sorted by CPU time, group_by_input_shape, profile_memory, exporting a
Chrome trace, and a schedule (wait/warmup/active) with on_trace_ready and prof.step() over a
short training loop."""

import json
import os
import tempfile

import torch
import torch.nn as nn
from torch.profiler import ProfilerActivity, profile, record_function, schedule

torch.manual_seed(0)


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        )  # fmt: skip
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


model = SmallNet()
inputs = torch.randn(5, 3, 32, 32)

with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    with record_function("model_inference"):
        model(inputs)

table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=10)
print(table)
shape_table = prof.key_averages(group_by_input_shape=True).table(
    sort_by="cpu_time_total", row_limit=10
)
print(shape_table)
event_names = {e.key for e in prof.key_averages()}

with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True) as prof:
    model(inputs)
memory_table = prof.key_averages().table(sort_by="self_cpu_memory_usage", row_limit=10)
print(memory_table)

tmpdir = tempfile.mkdtemp()
with profile(activities=[ProfilerActivity.CPU]) as prof:
    model(inputs)
trace_path = os.path.join(tmpdir, "trace.json")
prof.export_chrome_trace(trace_path)
with open(trace_path) as f:
    trace = json.load(f)
trace_events = trace["traceEvents"] if isinstance(trace, dict) else trace

# Long-running jobs: a schedule, and a handler called whenever a trace is ready
ready = []


def trace_handler(p):
    output = p.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    print(output)
    ready.append(p.step_num)


optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
targets = torch.randint(0, 10, (5,))
losses = []
with profile(
    activities=[ProfilerActivity.CPU],
    schedule=schedule(wait=1, warmup=1, active=2, repeat=1),
    on_trace_ready=trace_handler,
) as p:
    for idx in range(6):
        with record_function("train_step"):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(inputs), targets)
            loss.backward()
            optimizer.step()
        losses.append(loss.item())
        p.step()
