"""HuggingFace accelerate and opacus (differential privacy), run with ``torch`` bound to
minigrad (as under ``python -m minigrad.as_torch``) and with PyTorch, the two runs compared
number by number (helpers of tests/test_third_party_libs.py); each skips where its library is
not installed. Also the PyTorch behaviour they needed: safetensors' loading path (storage
slices, ``asarray`` of a storage, ``view(dtype=...)``)."""

import importlib
import warnings

import numpy as np
import pytest
from test_third_party_libs import _both, _close

import minigrad


def test_storage_slices_and_byte_views_as_pytorch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (minigrad, torch):
        t = lib.arange(6, dtype=lib.float32)
        storage = t.untyped_storage()
        part = storage[8:16]  # a storage over the same bytes, as safetensors reads one
        as_bytes = lib.asarray(part, dtype=lib.uint8)
        floats = as_bytes.view(dtype=lib.float32)
        floats[1] = -1.0  # writes reach the tensor
        with pytest.raises(RuntimeError, match="only a step of 1 is supported"):
            storage[0:8:2]
        results.append(
            (
                type(part).__name__,
                part.nbytes(),
                storage.untyped() is storage,
                floats.tolist(),
                t.tolist(),
                lib.asarray(storage[0:8], dtype=lib.int32).tolist(),
            )
        )
    assert results[0] == results[1]


def _accelerate(torch, tmp):
    """accelerate's README loop: ``prepare`` (model, optimizer, loader, scheduler),
    ``backward``, ``accumulate`` over 2 micro-batches, ``autocast`` with bf16 on the CPU,
    ``gather_for_metrics``, and ``save_state``/``load_state``."""
    accelerate = importlib.import_module("accelerate")
    state = importlib.import_module("accelerate.state")
    data = importlib.import_module("torch.utils.data")
    results = {}
    for mixed, accumulate in (("no", 2), ("bf16", 1)):
        state.AcceleratorState._reset_state(True)
        state.GradientState._reset_state()
        accelerate.utils.set_seed(0)
        x = torch.randn(16, 5)
        dataset = data.TensorDataset(x, (x.sum(1) > 0).long())
        acc = accelerate.Accelerator(
            mixed_precision=mixed, gradient_accumulation_steps=accumulate, cpu=True
        )
        model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        loader = data.DataLoader(dataset, batch_size=4, shuffle=True)
        model, opt, loader, sched = acc.prepare(model, opt, loader, sched)
        losses = []
        for xb, yb in loader:
            with acc.accumulate(model):
                with acc.autocast():
                    loss = torch.nn.functional.cross_entropy(model(xb), yb)
                acc.backward(loss)
                opt.step()
                sched.step()
                opt.zero_grad()
            losses.append(loss.item())
        with torch.no_grad():
            preds, _ = acc.gather_for_metrics((model(x).argmax(-1), x))
        weights = [p.detach().float().clone() for p in model.parameters()]
        # torch.save's format: safetensors' Rust core keeps the first torch module it meets
        # for the rest of the process, so one process cannot use it with both bindings
        acc.save_state(str(tmp / mixed), safe_serialization=False)
        with torch.no_grad():
            for p in model.parameters():
                p.zero_()
        acc.load_state(str(tmp / mixed))
        restored = all(torch.equal(w, p.float()) for w, p in zip(weights, model.parameters()))
        unwrapped = acc.unwrap_model(model)
        results[mixed] = {
            "losses": losses,
            "preds": preds.tolist(),
            "restored": restored,
            "lr": sched.get_last_lr(),
            "weights": unwrapped[0].weight.detach().float().flatten().tolist(),
            "step": acc.step,
        }
    return results


def test_accelerate_readme_loop_as_with_pytorch(tmp_path):
    ours, theirs = _both(lambda torch: _accelerate(torch, tmp_path), "accelerate")
    for mixed, values in ours.items():
        assert values["restored"], mixed
        if theirs is not None:
            expected = theirs[mixed]
            assert values["preds"] == expected["preds"], mixed
            assert values["step"] == expected["step"] and values["lr"] == expected["lr"]
            _close(values["losses"], expected["losses"])
            _close(values["weights"], expected["weights"])


def _opacus(torch):
    """opacus: per-sample gradients of a small CNN by hooks and by functorch (torch.func's
    vmap), then DP-SGD (``make_private``: clipping, seeded Gaussian noise, Poisson-sampled
    batches) and the accountants' epsilon."""
    opacus = importlib.import_module("opacus")
    accountants = importlib.import_module("opacus.accountants")
    data = importlib.import_module("torch.utils.data")
    nn = torch.nn
    torch.manual_seed(0)
    x, y = torch.randn(16, 1, 5, 5), torch.randint(0, 3, (16,))

    def model():
        torch.manual_seed(1)
        return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(18, 3))

    results = {}
    for functorch in (False, True):
        gsm = opacus.GradSampleModule(model(), force_functorch=functorch)
        nn.functional.cross_entropy(gsm(x[:4]), y[:4], reduction="sum").backward()
        results[f"grad_sample functorch={functorch}"] = [
            v for p in gsm.parameters() for v in p.grad_sample.flatten().tolist()
        ]
    net = model()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=8)
    engine = opacus.PrivacyEngine(accountant="rdp")
    net, opt, loader = engine.make_private(
        module=net, optimizer=opt, data_loader=loader, noise_multiplier=1.1, max_grad_norm=1.0
    )
    torch.manual_seed(3)
    for xb, yb in loader:
        opt.zero_grad()
        nn.functional.cross_entropy(net(xb), yb).backward()
        opt.step()
    results["weights"] = [v for p in net.parameters() for v in p.detach().flatten().tolist()]
    results["epsilon"] = [engine.get_epsilon(1e-5)]
    gaussian = accountants.GaussianAccountant()
    for _ in range(5):
        gaussian.step(noise_multiplier=1.1, sample_rate=0.25)
    results["epsilon"].append(gaussian.get_epsilon(1e-5))
    return results


def test_opacus_per_sample_gradients_and_dp_sgd_as_with_pytorch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # opacus' notes on secure_mode and the RNG
        ours, theirs = _both(_opacus, "opacus")
    hooks, functorch = ours["grad_sample functorch=False"], ours["grad_sample functorch=True"]
    np.testing.assert_allclose(functorch, hooks, rtol=1e-5, atol=1e-6)
    for key, values in ours.items():
        _close(values, theirs and theirs[key])
