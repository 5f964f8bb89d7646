"""The README's first model: a small classifier trained with Adam (runs in a second on a CPU)."""

import minigrad as torch
from minigrad import nn, optim

torch.manual_seed(0)
x = torch.randn(256, 2)
y = ((x[:, 0] * x[:, 1]) > 0).long()  # label: do both coordinates have the same sign?

model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
optimizer = optim.Adam(model.parameters(), lr=0.05)
loss_fn = nn.CrossEntropyLoss()

for step in range(201):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    if step % 50 == 0:
        accuracy = (model(x).argmax(1) == y).float().mean()
        print(f"step {step:3d}  loss {loss:.4f}  accuracy {accuracy:.1%}")
