"""HuggingFace transformers (and peft) with ``torch`` bound to minigrad, as under ``python -m
minigrad.as_torch``: tiny GPT-2, BERT and Llama models built from configs (no weights are
downloaded) train, generate (greedy, sampled, beam search), save and load; T5 as an
encoder-decoder; peft's LoRA and the Trainer where installed.

One program runs every model once per binding, each in a process of its own: transformers'
modules hold the ``torch`` they imported, and so does safetensors' compiled module (for the
life of the process, so that a later ``safetensors.torch.load_file`` in the same process would
get the other binding). The fast tests check
the minigrad run against itself (greedy ``generate`` against an argmax loop over the model's
own logits, a reloaded checkpoint against the saved model, a merged LoRA against the unmerged
one); the slow one runs the same program on PyTorch and compares every number (the same seed
gives the same initial weights, so losses, logits and generated tokens agree to float
rounding). Skipped where transformers is not installed."""

import importlib
import importlib.util
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

if importlib.util.find_spec("transformers") is None:
    pytest.skip("transformers is not installed", allow_module_level=True)


def _run(binding: str) -> dict:
    """:func:`_program` in a new process with ``torch`` bound to ``binding`` (``"minigrad"``
    or ``"torch"``), its results pickled back."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.pkl"
        code = (
            "import importlib, pickle, sys, minigrad.as_torch\n"
            "sys.path.insert(0, 'tests')\n"
            "import test_hf_transformers as t\n"
            f"if {binding!r} == 'minigrad':\n"
            "    with minigrad.as_torch.imports():\n"
            "        out = t._program(importlib.import_module('torch'))\n"
            "else:\n"
            "    import torch\n"
            "    torch.set_num_threads(1)\n"
            "    out = t._program(torch)\n"
            f"pickle.dump(out, open({str(path)!r}, 'wb'))\n"
        )
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env,
            timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-5000:]
        return pickle.loads(path.read_bytes())


def _np(t):
    return t.detach().numpy().copy()


def _greedy(model, torch, ids, steps):
    """Greedy decoding by hand: append the argmax of the last position's logits."""
    with torch.no_grad():
        for _ in range(steps):
            nxt = model(ids).logits[:, -1].argmax(-1, keepdim=True)
            ids = torch.cat([ids, nxt], dim=1)
    return ids


def _gpt2(torch, tf, out):
    torch.manual_seed(0)
    cfg = tf.GPT2Config(n_layer=2, n_embd=32, n_head=4, vocab_size=50, n_positions=16)
    cfg.bos_token_id = cfg.eos_token_id = cfg.pad_token_id = 0
    model = tf.GPT2LMHeadModel(cfg)
    ids = torch.randint(0, 50, (2, 8))
    first = model(ids, labels=ids)
    first.loss.backward()
    out["gpt2_grads_missing"] = [n for n, p in model.named_parameters() if p.grad is None]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    opt.step()
    out["gpt2_losses"] = [first.loss.item(), model(ids, labels=ids).loss.item()]
    out["gpt2_logits"] = _np(first.logits)
    model.eval()
    prompt = ids[:1, :3]
    out["gpt2_generate"] = model.generate(prompt, max_new_tokens=4, do_sample=False).tolist()
    out["gpt2_greedy"] = _greedy(model, torch, prompt, 4).tolist()
    samples = []
    for _ in range(2):  # seeded sampling: PyTorch's generator, so PyTorch's tokens
        torch.manual_seed(1)
        samples.append(
            model.generate(prompt, max_new_tokens=5, do_sample=True, top_k=10, top_p=0.9).tolist()
        )
    out["gpt2_samples"] = samples
    out["gpt2_beam"] = model.generate(prompt, max_new_tokens=4, num_beams=3).tolist()
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)  # safetensors
        loaded = tf.GPT2LMHeadModel.from_pretrained(folder)
    out["gpt2_reload_equal"] = all(
        torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values())
    )
    out["gpt2_reload_logits"] = [_np(model(ids).logits), _np(loaded(ids).logits)]
    return model, ids


def _bert(torch, tf, out):
    torch.manual_seed(0)
    cfg = tf.BertConfig(
        vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=16, num_labels=3,
    )  # fmt: skip
    model = tf.BertForSequenceClassification(cfg).eval()
    ids = torch.randint(1, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    labels = torch.tensor([0, 2])
    result = model(input_ids=ids, attention_mask=mask, labels=labels)
    result.loss.backward()
    out["bert_loss"] = result.loss.item()
    out["bert_loss_by_hand"] = torch.nn.functional.cross_entropy(result.logits, labels).item()
    out["bert_logits"] = _np(result.logits)
    ids2 = ids.clone()
    ids2[1, 5:] = 7  # tokens under the padding mask: no effect on the logits
    out["bert_masked_logits"] = _np(model(input_ids=ids2, attention_mask=mask).logits)


def _llama(torch, tf, out):
    torch.manual_seed(0)
    cfg = tf.LlamaConfig(
        vocab_size=50,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=32,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )  # fmt: skip  (RoPE, RMSNorm, SDPA with grouped-query attention)
    model = tf.LlamaForCausalLM(cfg)
    ids = torch.randint(1, 50, (2, 9))
    result = model(ids, labels=ids)
    result.loss.backward()
    out["llama_loss"] = result.loss.item()
    out["llama_logits"] = _np(result.logits)
    out["llama_grad"] = _np(model.model.layers[0].self_attn.k_proj.weight.grad)
    model.eval()
    prompt = ids[:1, :4]
    out["llama_generate"] = model.generate(prompt, max_new_tokens=4, do_sample=False).tolist()
    out["llama_greedy"] = _greedy(model, torch, prompt, 4).tolist()


def _t5(torch, tf, out):
    torch.manual_seed(0)
    cfg = tf.T5Config(
        vocab_size=50,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
    )  # fmt: skip  (an encoder-decoder, relative position buckets)
    model = tf.T5ForConditionalGeneration(cfg)
    source, target = torch.tensor([[5, 6, 7, 1]]), torch.tensor([[8, 9, 1]])
    result = model(input_ids=source, labels=target)
    result.loss.backward()
    out["t5_loss"] = result.loss.item()
    out["t5_grad"] = _np(model.shared.weight.grad)
    out["t5_generate"] = model.eval().generate(source, max_new_tokens=4).tolist()


def _lora(torch, model, ids, out):
    peft = importlib.import_module("peft")
    base = {n: _np(p) for n, p in model.named_parameters()}
    config = peft.LoraConfig(r=2, lora_alpha=4, target_modules=["c_attn"], lora_dropout=0.0)
    lora = peft.get_peft_model(model, config)
    trainable = [p for p in lora.parameters() if p.requires_grad]
    out["lora_trainable"] = sum(p.numel() for p in trainable)
    opt = torch.optim.AdamW(trainable, lr=1e-2)
    losses = []
    for _ in range(3):
        loss = lora(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    out["lora_losses"] = losses
    out["lora_base_changed"] = [
        n for n, p in lora.base_model.model.named_parameters()
        if "lora_" not in n and n.replace(".base_layer", "") in base
        and not np.array_equal(_np(p), base[n.replace(".base_layer", "")])
    ]  # fmt: skip
    unmerged = _np(lora(input_ids=ids).logits)
    out["lora_merged"] = [unmerged, _np(lora.merge_and_unload()(input_ids=ids).logits)]


def _trainer(torch, tf, out):
    torch.manual_seed(0)
    model = tf.GPT2LMHeadModel(tf.GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=30))
    data = []
    for _ in range(8):
        ids = torch.randint(0, 30, (6,))
        data.append({"input_ids": ids, "labels": ids})
    with tempfile.TemporaryDirectory() as folder:
        args = tf.TrainingArguments(
            output_dir=folder, per_device_train_batch_size=4, max_steps=3, learning_rate=1e-2,
            report_to=[], logging_steps=1, save_strategy="no", use_cpu=True, seed=0,
            disable_tqdm=True,
        )  # fmt: skip
        trainer = tf.Trainer(model=model, args=args, train_dataset=data)
        trainer.train()
    out["trainer_losses"] = [h["loss"] for h in trainer.state.log_history if "loss" in h]


def _program(torch):
    """Every model once; returns name -> result (numbers, arrays, token lists)."""
    tf = importlib.import_module("transformers")
    tf.logging.set_verbosity_error()
    out = {}
    model, ids = _gpt2(torch, tf, out)
    _bert(torch, tf, out)
    _llama(torch, tf, out)
    _t5(torch, tf, out)
    if importlib.util.find_spec("peft") is not None:
        _lora(torch, model, ids, out)
    if importlib.util.find_spec("accelerate") is not None:  # Trainer needs accelerate
        _trainer(torch, tf, out)
    return out


@pytest.fixture(scope="module")
def ours():
    return _run("minigrad")


def test_gpt2_trains_a_step(ours):
    assert ours["gpt2_grads_missing"] == []
    first, second = ours["gpt2_losses"]
    assert np.isfinite(first) and second < first  # one AdamW step on the same batch
    assert ours["gpt2_logits"].shape == (2, 8, 50)


def test_greedy_generate_is_the_argmax_loop(ours):
    assert ours["gpt2_generate"] == ours["gpt2_greedy"]
    assert ours["llama_generate"] == ours["llama_greedy"]
    assert len(ours["llama_generate"][0]) == 8


def test_seeded_sampling_repeats_and_beam_search_runs(ours):
    first, second = ours["gpt2_samples"]
    assert first == second and len(first[0]) == 8
    assert len(ours["gpt2_beam"][0]) == 7


def test_t5_encoder_decoder(ours):
    assert np.isfinite(ours["t5_loss"]) and np.abs(ours["t5_grad"]).sum() > 0
    assert len(ours["t5_generate"][0]) <= 5  # the start token and up to 4 more


def test_save_pretrained_from_pretrained_round_trip(ours):
    assert ours["gpt2_reload_equal"]
    saved, loaded = ours["gpt2_reload_logits"]
    np.testing.assert_array_equal(saved, loaded)


def test_bert_classifies_and_ignores_masked_tokens(ours):
    assert ours["bert_loss"] == pytest.approx(ours["bert_loss_by_hand"], rel=1e-6)
    np.testing.assert_allclose(ours["bert_masked_logits"], ours["bert_logits"], atol=1e-6)


def test_llama_trains(ours):
    assert np.isfinite(ours["llama_loss"]) and np.abs(ours["llama_grad"]).sum() > 0


def test_lora_trains_adapters_only(ours):
    if "lora_losses" not in ours:
        pytest.skip("peft is not installed")
    assert ours["lora_trainable"] == 2 * 2 * (32 + 96)  # r x (in + out), 2 layers
    assert ours["lora_losses"][-1] < ours["lora_losses"][0]
    assert ours["lora_base_changed"] == []
    unmerged, merged = ours["lora_merged"]
    np.testing.assert_allclose(merged, unmerged, rtol=1e-5, atol=1e-5)


def test_trainer_runs(ours):
    if "trainer_losses" not in ours:
        pytest.skip("accelerate is not installed")
    losses = ours["trainer_losses"]
    assert len(losses) == 3 and all(np.isfinite(losses))


@pytest.mark.slow
def test_every_number_matches_pytorch(ours):
    """The same program on PyTorch: same losses, logits, gradients and tokens."""
    if importlib.util.find_spec("torch") is None:
        pytest.skip("PyTorch is not installed")
    theirs = _run("torch")
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        if isinstance(value, (float, np.ndarray)) or (
            isinstance(value, list) and value and isinstance(value[0], (float, np.ndarray))
        ):
            np.testing.assert_allclose(ours[key], value, rtol=1e-4, atol=1e-5, err_msg=key)
        else:
            assert ours[key] == value, key
