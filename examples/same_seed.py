"""The same seed gives PyTorch's run: one training script, run with PyTorch and with minigrad.

The script below takes the framework as an argument and draws all its randomness from
``manual_seed``: the initial weights, the shuffled batches, the dropout masks and a final
``multinomial`` draw. With PyTorch installed both runs are printed side by side; the losses
agree to float32 rounding and the drawn samples are the same. Without PyTorch, minigrad's run
alone is printed.

    python examples/same_seed.py [--seed 0] [--steps 40]
"""

import argparse
import importlib.util


def train(torch, seed: int, steps: int):
    """A small MLP with dropout on noisy two-moons-like data; returns losses and samples."""
    nn = torch.nn
    torch.manual_seed(seed)
    angle = torch.rand(512) * 3.14159
    label = torch.randint(0, 2, (512,))
    x = torch.stack([angle.cos() + label, angle.sin() * (1 - 2 * label)], 1)
    x = x + 0.1 * torch.randn(512, 2)
    data = torch.utils.data.TensorDataset(x, label)
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    while len(losses) < steps:
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    probs = model(x[:4]).softmax(-1)
    samples = torch.multinomial(probs, 8, replacement=True).tolist()
    return losses[:steps], samples


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--steps", type=int, default=40, help="training steps (default: 40)")
    args = p.parse_args(argv)
    import minigrad

    ours = train(minigrad, args.seed, args.steps)
    if importlib.util.find_spec("torch") is None:
        print("PyTorch is not installed: minigrad's run alone")
        for step, loss in enumerate(ours[0]):
            print(f"step {step:3d}  loss {loss:.6f}")
        return
    import torch

    torch.set_num_threads(1)
    theirs = train(torch, args.seed, args.steps)
    print("step   minigrad    PyTorch")
    for step, (a, b) in enumerate(zip(ours[0], theirs[0])):
        if step % 5 == 0 or step == args.steps - 1:
            print(f"{step:4d}   {a:.6f}   {b:.6f}")
    gap = max(abs(a - b) / abs(b) for a, b in zip(ours[0], theirs[0]))
    print(f"largest relative difference of the losses: {gap:.1e}")
    print(f"samples drawn after training: {'the same' if ours[1] == theirs[1] else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
