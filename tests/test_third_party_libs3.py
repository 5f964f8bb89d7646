"""Third-party libraries of the sixteenth session (pytorch-ignite, stable-baselines3, botorch,
sentence-transformers, diffusers, monai, fastai), run with ``torch`` bound to minigrad (as under
``python -m minigrad.as_torch``) and with PyTorch, compared number by number (the helpers of
``test_third_party_libs``); each skips where its library is not installed. pytorch-ignite is
in the ``compat`` extra, which CI installs. The last tests check, without the libraries, the
PyTorch names they needed against PyTorch's."""

import importlib
import os
import pickle
import subprocess
import sys
import tempfile
import typing
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_third_party_libs import _both, _close, _need

import minigrad

ROOT = Path(__file__).resolve().parents[1]


def _ignite(torch):
    """pytorch-ignite's README loop: ``create_supervised_trainer``/``evaluator``, metrics
    (Accuracy, Loss, Precision, ConfusionMatrix, RunningAverage), an ``LRScheduler`` handler,
    ``EarlyStopping`` and ``ModelCheckpoint`` (saved, loaded back with ``Checkpoint``)."""
    engine = importlib.import_module("ignite.engine")
    metrics = importlib.import_module("ignite.metrics")
    handlers = importlib.import_module("ignite.handlers")
    data = torch.utils.data
    torch.manual_seed(0)
    x = torch.randn(24, 5)
    y = (x[:, 0] + x[:, 1] > 0).long()
    train = data.DataLoader(data.TensorDataset(x, y), batch_size=8, shuffle=True)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    trainer = engine.create_supervised_trainer(model, opt, loss_fn)
    metrics.RunningAverage(output_transform=lambda out: out).attach(trainer, "loss")
    step = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    trainer.add_event_handler(engine.Events.ITERATION_COMPLETED, handlers.LRScheduler(step))
    scores = {
        "acc": metrics.Accuracy(),
        "nll": metrics.Loss(loss_fn),
        "prec": metrics.Precision(average=True),
        "cm": metrics.ConfusionMatrix(2),
    }
    evaluator = engine.create_supervised_evaluator(model, metrics=scores)
    history = []

    @trainer.on(engine.Events.EPOCH_COMPLETED)
    def evaluate(e):
        evaluator.run(data.DataLoader(data.TensorDataset(x, y), batch_size=12))
        m = evaluator.state.metrics
        history.extend([e.state.metrics["loss"], m["acc"], m["nll"], m["prec"]])
        history.extend(np.ravel(m["cm"].tolist()).tolist())

    stop = handlers.EarlyStopping(2, lambda e: -e.state.metrics["nll"], trainer)
    evaluator.add_event_handler(engine.Events.COMPLETED, stop)
    with tempfile.TemporaryDirectory() as folder:
        saver = handlers.ModelCheckpoint(folder, "m", n_saved=1, require_empty=False)
        trainer.add_event_handler(engine.Events.EPOCH_COMPLETED, saver, {"model": model})
        trainer.run(train, max_epochs=2)
        saved = torch.load(saver.last_checkpoint, weights_only=True)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    handlers.Checkpoint.load_objects({"model": model}, saved)
    return history + [p.detach().sum().item() for p in model.parameters()]


def test_pytorch_ignite_trainer_metrics_and_handlers_as_with_pytorch():
    ours, theirs = _both(_ignite, "ignite")
    _close(ours, theirs)


def _sb3(torch):
    """stable-baselines3: PPO and DQN ``learn`` on CartPole from a seed (gymnasium's
    environment seeded by the model), then a deterministic ``predict``."""
    sb3 = importlib.import_module("stable_baselines3")
    gym = importlib.import_module("gymnasium")
    ppo = sb3.PPO(
        "MlpPolicy", gym.make("CartPole-v1"), n_steps=32, batch_size=16, n_epochs=2, seed=0,
        device="cpu", policy_kwargs={"net_arch": [8]},
    )  # fmt: skip
    ppo.learn(64)
    dqn = sb3.DQN(
        "MlpPolicy", gym.make("CartPole-v1"), learning_starts=16, buffer_size=100, batch_size=8,
        train_freq=4, target_update_interval=16, seed=0, device="cpu",
        policy_kwargs={"net_arch": [8]},
    )  # fmt: skip
    dqn.learn(64)
    obs, _ = gym.make("CartPole-v1").reset(seed=1)
    actions = [int(m.predict(obs, deterministic=True)[0]) for m in (ppo, dqn)]
    weights = [p.detach().double().sum().item() for m in (ppo, dqn) for p in m.policy.parameters()]
    return actions + weights


def test_stable_baselines3_ppo_and_dqn_learn_as_with_pytorch():
    ours, theirs = _both(_sb3, "stable_baselines3", "gymnasium")
    _close(ours, theirs)


def _botorch(torch):
    """botorch's README: a ``SingleTaskGP`` fitted by ``fit_gpytorch_mll`` (L-BFGS-B through
    SciPy), ``qExpectedImprovement`` on Sobol QMC samples optimized by ``optimize_acqf``."""
    models = importlib.import_module("botorch.models")
    fit = importlib.import_module("botorch.fit")
    acquisition = importlib.import_module("botorch.acquisition")
    optim = importlib.import_module("botorch.optim")
    sampling = importlib.import_module("botorch.sampling")
    mlls = importlib.import_module("gpytorch.mlls")
    torch.manual_seed(0)
    x = torch.rand(8, 2, dtype=torch.double)
    y = torch.sin(6 * x[:, :1]) + x[:, 1:] ** 2
    gp = models.SingleTaskGP(x, y)
    fit.fit_gpytorch_mll(mlls.ExactMarginalLogLikelihood(gp.likelihood, gp))
    sampler = sampling.SobolQMCNormalSampler(sample_shape=torch.Size([32]), seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # botorch recommends qLogEI over qEI
        qei = acquisition.qExpectedImprovement(gp, best_f=y.max(), sampler=sampler)
    bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.double)
    candidates, value = optim.optimize_acqf(
        qei, bounds=bounds, q=2, num_restarts=2, raw_samples=16, options={"seed": 0, "maxiter": 20}
    )
    hyper = [v for p in gp.parameters() for v in p.detach().flatten().tolist()]
    return hyper + candidates.flatten().tolist() + [value.item()]


def test_botorch_gp_fit_and_qei_as_with_pytorch():
    ours, theirs = _both(_botorch, "botorch", "gpytorch", "linear_operator")
    _close(ours, theirs, rel=1e-3, abs=1e-4)  # L-BFGS-B stops on float-rounding differences


def _diffusers(torch):
    """diffusers' training recipe, in small: a ``UNet2DModel`` (attention blocks) learns to
    predict ``DDPMScheduler.add_noise``'s noise for two steps, then a seeded DDPM sampling
    loop (``set_timesteps``, ``step`` with a generator)."""
    diffusers = importlib.import_module("diffusers")
    torch.manual_seed(0)
    unet = diffusers.UNet2DModel(
        sample_size=8, in_channels=1, out_channels=1, layers_per_block=1,
        block_out_channels=(8, 16), down_block_types=("DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D"), norm_num_groups=4,
    )  # fmt: skip
    scheduler = diffusers.DDPMScheduler(num_train_timesteps=50)
    opt = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    x0, losses = torch.randn(2, 1, 8, 8), []
    for _ in range(2):
        noise, t = torch.randn_like(x0), torch.randint(0, 50, (2,))
        loss = torch.nn.functional.mse_loss(
            unet(scheduler.add_noise(x0, noise, t), t).sample, noise
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    scheduler.set_timesteps(3)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 1, 8, 8, generator=g)
    for t in scheduler.timesteps:
        with torch.no_grad():
            x = scheduler.step(unet(x, t).sample, t, x, generator=g).prev_sample
    return losses + x.flatten().tolist()


def test_diffusers_unet_training_step_and_ddpm_sampling_as_with_pytorch():
    ours, theirs = _both(_diffusers, "diffusers")
    _close(ours, theirs, abs=1e-4)


def _monai(torch):
    """monai's segmentation example, in small: seeded random transforms, a residual ``UNet``
    trained two steps on ``DiceLoss``, ``sliding_window_inference``, ``DiceMetric`` after the
    post-transforms, and its ``DataLoader`` batching ``MetaTensor``s (the collate registry)."""
    nets = importlib.import_module("monai.networks.nets")
    monai_losses = importlib.import_module("monai.losses")
    transforms = importlib.import_module("monai.transforms")
    inferers = importlib.import_module("monai.inferers")
    monai_data = importlib.import_module("monai.data")
    dice_metric = importlib.import_module("monai.metrics").DiceMetric
    importlib.import_module("monai.utils").set_determinism(seed=0)
    net = nets.UNet(2, 1, 2, channels=(4, 8), strides=(2,), num_res_units=1)
    xf = transforms.Compose(
        [transforms.ScaleIntensity(), transforms.RandFlip(0.5, 0), transforms.RandRotate90(0.5)]
    )
    xf.set_random_state(seed=0)
    rng = np.random.default_rng(0)
    images = torch.stack([torch.as_tensor(xf(rng.random((1, 8, 8), np.float32))) for _ in "ab"])
    labels = (images > images.mean()).long()
    loss_fn = monai_losses.DiceLoss(to_onehot_y=True, softmax=True)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    results = []
    for _ in range(2):
        loss = loss_fn(net(images), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        results.append(loss.item())
    net.eval()
    with torch.no_grad():
        out = inferers.sliding_window_inference(images, (4, 4), 2, net, overlap=0.25)
    post = transforms.Compose([transforms.Activations(softmax=True), transforms.AsDiscrete(True)])
    metric = dice_metric(include_background=False)
    metric([post(o) for o in out], [transforms.AsDiscrete(to_onehot=2)(lab) for lab in labels])
    samples = [{"img": rng.random((4, 4), np.float32), "label": i} for i in range(4)]
    load = transforms.EnsureChannelFirstd("img", channel_dim="no_channel")
    batch = next(iter(monai_data.DataLoader(monai_data.Dataset(samples, load), batch_size=2)))
    kinds = [type(batch["img"]).__name__, list(batch["img"].meta["affine"].shape)]
    return results + [metric.aggregate().item(), out.sum().item(), batch["img"].sum().item()], kinds


def test_monai_unet_dice_transforms_and_loader_as_with_pytorch():
    (ours, kinds), theirs = _both(_monai, "monai")
    assert kinds == ["MetaTensor", [2, 4, 4]]  # the samples' affines batched too
    _close(ours, theirs and theirs[0])


def _fastai(torch):
    """fastai's ``Learner`` on a tiny ``DataLoaders`` of its own ``DataLoader`` (which drives
    PyTorch's private ``_SingleProcessDataLoaderIter`` with a stand-in loader):
    ``fit_one_cycle`` for two epochs with ``accuracy``."""
    core = importlib.import_module("fastai.data.core")
    load = importlib.import_module("fastai.data.load")
    learner = importlib.import_module("fastai.learner")
    importlib.import_module("fastai.callback.schedule")  # adds Learner.fit_one_cycle
    accuracy = importlib.import_module("fastai.metrics").accuracy
    importlib.import_module("fastai.torch_core").set_seed(0)
    x = torch.randn(32, 4)
    pairs = list(zip(x, (x[:, 0] > 0).long()))
    dls = core.DataLoaders(
        load.DataLoader(pairs[:24], bs=8, shuffle=True), load.DataLoader(pairs[24:], bs=8)
    )
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    learn = learner.Learner(dls, model, loss_func=torch.nn.CrossEntropyLoss(), metrics=accuracy)
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(2, 1e-2)
    values = [v for epoch in learn.recorder.values for v in epoch]
    return values + [p.detach().sum().item() for p in model.parameters()]


def test_fastai_learner_fit_one_cycle_as_with_pytorch():
    ours, theirs = _both(_fastai, "fastai", "fastcore", "fastprogress", "fasttransform")
    _close(ours, theirs)


def _sentence_transformers(torch) -> list:
    """sentence-transformers on a tiny BERT built from a config (saved with a word-piece
    vocabulary, loaded by ``models.Transformer``), mean ``Pooling``: ``encode``, ``cos_sim``,
    three AdamW steps of ``CosineSimilarityLoss``, ``MultipleNegativesRankingLoss``."""
    tf = importlib.import_module("transformers")
    st = importlib.import_module("sentence_transformers")
    modules, st_losses, util = (
        importlib.import_module(f"sentence_transformers.{name}")
        for name in ("models", "losses", "util")
    )
    torch.manual_seed(0)
    folder = tempfile.mkdtemp()
    words = "[PAD] [UNK] [CLS] [SEP] [MASK] the cat dog sat on a mat runs fast red".split()
    Path(folder, "vocab.txt").write_text("\n".join(words))
    tf.BertTokenizer(str(Path(folder, "vocab.txt"))).save_pretrained(folder)
    config = tf.BertConfig(
        vocab_size=len(words), hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=16, max_position_embeddings=16,
    )  # fmt: skip
    tf.BertModel(config).save_pretrained(folder)
    word = modules.Transformer(folder, max_seq_length=12)
    pool = modules.Pooling(word.get_embedding_dimension(), pooling_mode="mean")
    model = st.SentenceTransformer(modules=[word, pool], device="cpu")
    sentences = ["the cat sat on a mat", "a dog runs fast", "the red cat", "red dog"]
    emb = model.encode(sentences, convert_to_tensor=True)
    results = emb[:, :4].flatten().tolist() + util.cos_sim(emb[:2], emb[2:]).flatten().tolist()
    examples = [st.InputExample(texts=[sentences[0], sentences[2]], label=0.9)]
    examples.append(st.InputExample(texts=[sentences[1], sentences[3]], label=0.2))
    features, labels = model.smart_batching_collate(examples)
    loss_fn = st_losses.CosineSimilarityLoss(model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(3):
        loss = loss_fn(features, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        results.append(loss.item())
    ranking = st_losses.MultipleNegativesRankingLoss(model)
    results.append(ranking(*model.smart_batching_collate(examples)).item())
    return results + model.encode(sentences[:1])[0, :4].tolist()


def _in_a_process(program: str, binding: str):
    """``program`` (a function of this module) in a new process with ``torch`` bound to
    ``binding`` ("minigrad" or "torch"), its result pickled back: safetensors' compiled module
    keeps the ``torch`` it first imported for the life of a process."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.pkl"
        code = (
            "import importlib, pickle, minigrad.as_torch, test_third_party_libs3 as t\n"
            f"if {binding!r} == 'minigrad':\n"
            "    with minigrad.as_torch.imports():\n"
            f"        out = t.{program}(importlib.import_module('torch'))\n"
            "else:\n"
            "    import torch\n"
            "    torch.set_num_threads(1)\n"
            f"    out = t.{program}(torch)\n"
            f"pickle.dump(out, open({str(path)!r}, 'wb'))\n"
        )
        tests = str(ROOT / "tests")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), tests])}
        done = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, capture_output=True,
            text=True, env=env, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-5000:]
        return pickle.loads(path.read_bytes())


def test_sentence_transformers_encode_and_train_as_with_pytorch():
    _need("sentence_transformers", "transformers")
    ours = _in_a_process("_sentence_transformers", "minigrad")
    if importlib.util.find_spec("torch") is not None:
        _close(ours, _in_a_process("_sentence_transformers", "torch"))


# -- the PyTorch names these libraries needed, checked without them ---------------------------


def test_collate_registry_as_pytorch():
    """``default_collate_fn_map`` decides by exact type, then by ``isinstance``; a Tensor
    subclass's batch is stacked through its ``__torch_function__`` (monai's ``MetaTensor``)."""
    torch = pytest.importorskip("torch")
    ours_c = importlib.import_module("minigrad.utils.data._utils.collate")
    theirs_c = torch.utils.data._utils.collate
    assert set(ours_c.__all__) <= set(dir(theirs_c))
    assert ours_c.np_str_obj_array_pattern.pattern == theirs_c.np_str_obj_array_pattern.pattern
    batch = [{"x": np.ones(2, np.float32), "n": 1, "f": 0.5, "s": "a"}] * 2
    for lib, c in ((minigrad, ours_c), (torch, theirs_c)):
        out = c.default_collate(batch)
        assert out["x"].dtype == lib.float32 and out["f"].dtype == lib.float64
        assert out["n"].tolist() == [1, 1] and out["s"] == ["a", "a"]
        with pytest.raises(TypeError, match="default_collate: batch must contain"):
            c.default_collate([np.array(["a"])])

        class Marked(lib.Tensor):
            pass

        def collate_marked(items, *, collate_fn_map=None, lib=lib):
            return lib.stack(items) + 1

        mapping = {**c.default_collate_fn_map, Marked: collate_marked}
        items = [lib.zeros(2).as_subclass(Marked)] * 2
        collated = c.collate(items, collate_fn_map=mapping)
        assert collated.tolist() == [[1.0, 1.0]] * 2 and type(collated) is Marked
        assert type(c.default_collate(items)) is Marked  # stacked through __torch_function__


def test_jit_isinstance_as_pytorch():
    torch = pytest.importorskip("torch")
    cases = [
        ([1, 2], typing.List[int]),  # noqa: UP006 - the typing forms programs write
        ([1, "a"], typing.List[int]),  # noqa: UP006
        ([[1], [2]], list[list[int]]),
        ({"a": 1.0}, dict[str, float]),
        ({"a": 1}, dict[str, str]),
        ((1, "a"), tuple[int, str]),
        ((1,), tuple[int, str]),
        (None, typing.Optional[int]),  # noqa: UP045
        (3, int | None),
        (3, (str, int)),
        ("x", int),
    ]
    for value, kind in cases:
        assert minigrad.jit.isinstance(value, kind) == torch.jit.isinstance(value, kind), kind
    assert minigrad.jit.isinstance(minigrad.ones(1), minigrad.Tensor)
    assert isinstance([], list)  # the builtin: minigrad.jit's own namespace keeps it
    for jit in (minigrad.jit, torch.jit):
        with pytest.warns(UserWarning, match="inner type of a container is lost"):
            assert jit.isinstance([], list[int])
        with pytest.raises(RuntimeError, match="must be a type or a tuple of types"):
            jit.isinstance(1, [int])


def test_small_names_the_libraries_import_as_pytorch():
    """``_tensor_str.printoptions``, ``serialization.DEFAULT_PROTOCOL``, ``backends``' flag
    mutation context, ``distributed.device_mesh`` with the package, ``to(None)``, meta
    tensors' ``__setitem__``, ``distributed.optim.ZeroRedundancyOptimizer`` (needs a process group) and
    ``ReduceOp``'s bitwise members."""
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        with lib._tensor_str.printoptions(precision=2, sci_mode=False):
            assert repr(lib.tensor([1.23456, 1e-6])) == "tensor([1.23, 0.00])"
        assert repr(lib.tensor([1e-6])) == "tensor([1.0000e-06])"
        assert lib._tensor_str.get_printoptions()["precision"] == 4
        assert lib.serialization.DEFAULT_PROTOCOL == 2
        with lib.backends.__allow_nonbracketed_mutation():
            lib.backends.cudnn.benchmark = False
        assert not lib.backends.flags_frozen()
        assert lib.distributed.device_mesh.DeviceMesh is lib.distributed.DeviceMesh
        t = lib.ones(2)
        assert t.to(None) is t and t.to(None, lib.float64).dtype == lib.float64
        meta = lib.empty(3, 4, device="meta")
        meta[1] = 0.0
        with pytest.raises(IndexError, match="index 5 is out of bounds"):
            meta[5] = 0.0
        assert all(hasattr(lib.distributed.ReduceOp, name) for name in ("BAND", "BOR", "BXOR"))
    zero = importlib.import_module("minigrad.distributed.optim").ZeroRedundancyOptimizer
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        zero([minigrad.ones(1)], minigrad.optim.SGD)  # (tests/dist20_checks.py: on 2 ranks)
    assert issubclass(zero, minigrad.optim.Optimizer)


def test_checkpoint_device_states_as_pytorch():
    """``get_device_states`` lists the GPUs among nested tensor arguments (none for CPU
    tensors) with their generator states; ``set_device_states`` puts states back."""
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        ids, states = lib.utils.checkpoint.get_device_states(lib.ones(2), [lib.ones(1)], "x")
        assert ids == [] and states == []
        lib.utils.checkpoint.set_device_states([], [])
    if minigrad.cuda.is_available():
        x = minigrad.ones(2, device="cuda")
        ids, states = minigrad.utils.checkpoint.get_device_states({"a": [x]})
        first = minigrad.rand(3, device="cuda")
        minigrad.utils.checkpoint.set_device_states(ids, states)
        assert ids == [0] and minigrad.equal(minigrad.rand(3, device="cuda"), first)


def test_private_loader_iterator_and_flatten_helpers_as_pytorch():
    """``_SingleProcessDataLoaderIter(loader)`` over any object with PyTorch's private loader
    fields (fastai's stand-in), map-style and iterable; ``torch._utils``' flatten helpers."""
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        module = importlib.import_module(f"{lib.__name__}.utils.data.dataloader")
        kind = module._DatasetKind

        class Stand:
            collate_fn, drop_last, _auto_collation = staticmethod(lambda b: b), True, True
            _index_sampler, _dataset_kind, dataset = [[0, 1], [2, 3], [4]], kind.Map, "abcde"
            # what PyTorch's iterator reads besides (fastai's stand-in has them)
            _IterableDataset_len_called = generator = pin_memory_device = None
            num_workers, prefetch_factor, timeout, pin_memory, in_order = 0, 2, 0, False, True
            persistent_workers, multiprocessing_context = False, None

            def _get_shared_seed(self):
                return 0

        batches = [["a", "b"], ["c", "d"], ["e"]]  # (the batch sampler drops a short one)
        assert list(module._SingleProcessDataLoaderIter(Stand())) == batches
        Stand._dataset_kind = kind.Iterable  # the fetcher drops a batch the data cut short
        Stand._index_sampler = [[0, 1], [2, 3], [4, 5]]
        assert list(module._SingleProcessDataLoaderIter(Stand())) == batches[:2]
        Stand._auto_collation, Stand._index_sampler = False, range(10)
        assert list(module._SingleProcessDataLoaderIter(Stand())) == list("abcde")
        utils = importlib.import_module(f"{lib.__name__}._utils")
        parts = [lib.arange(4.0).reshape(2, 2), lib.ones(3)]
        flat = utils._flatten_dense_tensors(parts)
        assert flat.tolist() == [0.0, 1.0, 2.0, 3.0, 1.0, 1.0, 1.0]
        back = utils._unflatten_dense_tensors(flat * 2, parts)
        assert [b.tolist() for b in back] == [[[0.0, 2.0], [4.0, 6.0]], [2.0, 2.0, 2.0]]


def test_reduce_op_bitwise_members_refused_where_pytorch_refuses():
    """The bitwise ``ReduceOp``s (pytorch-ignite's table names them) exist; a float tensor and
    NCCL refuse them (checked on ranks in tests/dist_checks.py)."""
    from minigrad.distributed import _nccl, collectives

    assert collectives._reduce_op(minigrad.distributed.ReduceOp.BXOR, "all_reduce") == "BXOR"
    collectives._check_avg(minigrad.ones(2, dtype=minigrad.int64), "BAND", "all_reduce")
    with pytest.raises(ValueError, match="Cannot use ReduceOp.BOR with non-integral dtype"):
        collectives._check_avg(minigrad.ones(2), "BOR", "all_reduce")

    class FakeNccl:
        NCCL_SUM = NCCL_PROD = NCCL_MIN = NCCL_MAX = NCCL_AVG = 0

    with pytest.raises(ValueError, match="Cannot use ReduceOp.BAND with NCCL"):
        _nccl._nccl_op(FakeNccl, "BAND", "all_reduce")
    assert pickle.loads(pickle.dumps(minigrad.distributed.ReduceOp.BAND)).name == "BAND"


def test_save_takes_torch_saves_pickle_arguments():
    """monai's StateCacher passes ``pickle_module``/``pickle_protocol`` through to ``torch.save``;
    PyTorch's legacy non-zip format is refused by name."""
    import io
    import pickle

    import minigrad

    buffer = io.BytesIO()
    minigrad.save({"a": minigrad.ones(2)}, buffer, pickle_module=pickle, pickle_protocol=4)
    buffer.seek(0)
    assert minigrad.load(buffer)["a"].tolist() == [1.0, 1.0]
    with pytest.raises(NotImplementedError, match="_use_new_zipfile_serialization"):
        minigrad.save({}, io.BytesIO(), _use_new_zipfile_serialization=False)
