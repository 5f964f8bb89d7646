"""A twenty-first round of PyTorch programs, from popular GitHub training code (timm, CleanRL,
stable-baselines3, HuggingFace generation, llm.c, lucidrains' repositories, segment-anything,
PyTorch Geometric), run with ``torch`` bound to minigrad and with PyTorch itself and compared
value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_timm_train_utils(programs):
    ours, theirs = _both(programs, "timm_train_utils")  # Mixup, soft targets, EMA, cosine warmup
    assert ours.lams == theirs.lams and ours.modes == theirs.modes and any(ours.modes)
    assert ours.lrs == pytest.approx(theirs.lrs, rel=1e-12)
    assert close(ours.epoch_losses, theirs.epoch_losses, 1e-4, 1e-5)  # float32 training
    assert ours.epoch_losses[-1] < 0.8 * ours.epoch_losses[0]
    assert close(ours.val_metrics, theirs.val_metrics, 1e-4, 1e-5)
    assert close(ours.smooth_target_row, theirs.smooth_target_row, 1e-7)
    assert ours.ema_gap == pytest.approx(theirs.ema_gap, rel=1e-3)


def test_hf_logits_processors(programs):
    ours, theirs = _both(programs, "hf_logits_processors")  # top-k/top-p warpers, EOS padding
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and ours.losses[-1] < 0.2 * ours.losses[0]
    assert ours.positions == theirs.positions == [[1, 1, 0, 1], [0, 1, 2, 3]]
    assert ours.kept_per_row == theirs.kept_per_row == [3, 3]
    assert close(ours.processed_finite, theirs.processed_finite, 1e-4, 1e-5)
    assert ours.generated == theirs.generated  # same multinomial draws from the same seed
    assert ours.generated[1][5:] == [1] + [0] * 6  # EOS then padding
    assert ours.greedy == theirs.greedy


def test_pyg_message_passing(programs):
    ours, theirs = _both(programs, "pyg_message_passing")  # inspect-driven propagate, scatters
    assert ours.num_edges == theirs.num_edges and ours.deg_hist == theirs.deg_hist
    assert list(ours.results) == ["GCNConv", "SAGEConv", "EdgeConv", "GATConv"]
    for name, (losses, acc) in theirs.results.items():
        assert close(ours.results[name][0], losses, 1e-4, 1e-5), name  # float32 training
        assert ours.results[name][1] == acc, name
    gat_losses = ours.results["GATConv"][0]
    assert ours.results["GCNConv"][1] > 0.8 and gat_losses[-1] < 0.6 * gat_losses[0]


def test_llmc_train_gpt2(programs):
    ours, theirs = _both(programs, "llmc_train_gpt2")  # header/fp32/bf16 files, debug state
    assert ours.header == theirs.header == [20240326, 3, 8]
    assert ours.sizes == theirs.sizes == (7232, 7488, 7809)
    assert ours.bf16_checksum == theirs.bf16_checksum  # round-to-nearest-even, bit for bit
    assert ours.bf16_max_err == theirs.bf16_max_err
    assert ours.weights_checksum == theirs.weights_checksum  # the same seeded initialisation
    assert ours.state_loss == pytest.approx(theirs.state_loss, rel=1e-6)
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and close(ours.norms, theirs.norms, 1e-4)
    assert ours.losses[-1] < 0.8 * ours.losses[0]
    assert ours.flash_gap < 1e-5 and ours.sample == theirs.sample


def test_sam_mask_decoder(programs):
    ours, theirs = _both(programs, "sam_mask_decoder")  # two-way transformer, prompt encoder
    assert ours.shapes == theirs.shapes == [(3, 2, 16, 16), (3, 2), (3, 2, 16), (3, 16, 4, 4)]
    assert ours.single_shapes == theirs.single_shapes == [(3, 1, 16, 16), (3, 1)]
    assert ours.dense_pe_shape == theirs.dense_pe_shape == (1, 16, 4, 4)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and ours.losses[-1] < 0.85 * ours.losses[0]
    assert close(ours.ious, theirs.ious, 1e-4, 1e-5)  # thresholded masks agree


def test_diffusion_unet_pieces(programs):
    ours, theirs = _both(programs, "diffusion_unet_pieces")  # weight standardisation, min-SNR
    assert ours.buffer_dtypes == theirs.buffer_dtypes == ["torch.float32"]
    assert ours.times == theirs.times == [39, 31, 23, 15, 7, -1]
    assert close(ours.betas_head, theirs.betas_head, 1e-7) and close(
        ours.loss_weight_head, theirs.loss_weight_head, 1e-7
    )
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.6 * ours.losses[0]
    assert close(ours.sample_stats, theirs.sample_stats, 1e-4, 1e-6)
    assert ours.stochastic_mean == pytest.approx(theirs.stochastic_mean, rel=1e-4)


def test_cait_talking_heads(programs):
    ours, theirs = _both(programs, "cait_talking_heads")  # talking heads, class attention
    assert ours.scales == theirs.scales == [0.1] * 10
    assert ours.kept_layers == theirs.kept_layers  # uniform_ draws agree; layers really dropped
    assert min(ours.kept_layers) < 3
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and ours.losses[-1] < 0.7 * ours.losses[0]
    assert ours.accuracy == theirs.accuracy and ours.restored_gap == theirs.restored_gap == 0.0
    assert ours.mix_grad_norm == pytest.approx(theirs.mix_grad_norm, rel=1e-4)


def test_simmim_crossvit(programs):
    ours, theirs = _both(programs, "simmim_crossvit")  # topk masking, batch_range gathers
    assert ours.num_masked_total == theirs.num_masked_total == 256
    assert close(ours.mim_losses, theirs.mim_losses, 1e-4, 1e-6)
    assert ours.mim_losses[-1] < 0.7 * ours.mim_losses[0]
    assert close(ours.cls_losses, theirs.cls_losses, 1e-4, 1e-5)
    assert ours.accuracy == theirs.accuracy and ours.grads_reached == [True, True]


def test_timm_optim_factory(programs):
    ours, theirs = _both(programs, "timm_optim_factory")  # layer decay groups, Lookahead, AGC
    assert ours.group_summary == theirs.group_summary and len(ours.group_summary) == 9
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.7 * ours.losses[0]
    assert ours.state_keys == theirs.state_keys  # the slow buffer is checkpointed and loaded
    assert ours.state_keys == ["exp_avg", "exp_avg_sq", "lookahead_slow_buff", "step"]
    assert close(ours.resumed_losses, ours.losses[8:], 1e-6, 1e-7)  # the resume is exact
    assert close(ours.resumed_losses, theirs.resumed_losses, 1e-5, 1e-6)
    assert ours.lookahead_steps == theirs.lookahead_steps == [12, 12]
    assert close(ours.sched_lrs, theirs.sched_lrs, 1e-9)


def test_sb3_ppo_rollout_buffer(programs):
    ours, theirs = _both(programs, "sb3_ppo_rollout_buffer")  # GAE buffer, diagonal Gaussian
    assert list(ours.log) == list(theirs.log) and ours.log["epochs"] == theirs.log["epochs"]
    for key, values in theirs.log.items():
        assert close(ours.log[key], values, 1e-4, 1e-6), key  # same Normal.sample draws
    assert close(ours.advantages_sample, theirs.advantages_sample, 1e-4, 1e-6)
    assert ours.log_std == pytest.approx(theirs.log_std, rel=1e-4, abs=1e-6)


def test_x_transformers_pieces(programs):
    ours, theirs = _both(programs, "x_transformers_pieces")  # ALiBi, xPos rotary, token shift
    assert ours.slopes == theirs.slopes and ours.alibi_rows == theirs.alibi_rows
    assert ours.alibi_rows[-1] == [0.0] * 5  # the head without ALiBi, padded in
    assert close(ours.rotary_stats, theirs.rotary_stats, 1e-6)
    assert ours.shifted == theirs.shifted == [[[0.0, 0.0], [0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]]
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.3 * ours.losses[0]
    assert ours.sampled_k == theirs.sampled_k and ours.sampled_p == theirs.sampled_p
    assert ours.sampled_k[0][4:] == [1, 0, 0, 0]  # tokens after EOS masked to the pad value


def test_timm_checkpoint_adapt(programs):
    ours, theirs = _both(programs, "timm_checkpoint_adapt")  # resized pos_embed, 1/4-ch stems
    assert ours.epoch == theirs.epoch == 7 and list(ours.results) == list(theirs.results)
    for name, figures in theirs.results.items():
        mine = ours.results[name]
        assert mine["missing"] == figures["missing"] == ["head.bias", "head.weight"]
        assert mine["unexpected"] == figures["unexpected"] == ["dist_token"]
        assert mine["pos_shape"] == figures["pos_shape"], name
        assert mine["pre_logits_shape"] == figures["pre_logits_shape"] == [12, 16]
        assert close(mine["pos_stats"], figures["pos_stats"], 1e-5, 1e-7), name  # bicubic(+AA)
        assert mine["conv_sum"] == pytest.approx(figures["conv_sum"], rel=1e-5)
        assert close(mine["losses"], figures["losses"], 1e-5, 1e-6), name


def test_cleanrl_ppo_rnd(programs):
    ours, theirs = _both(programs, "cleanrl_ppo_rnd")  # RND curiosity, .type(FloatTensor) mask
    assert ours.forward_loss_shape == theirs.forward_loss_shape == [1]  # max(0-d, [1])
    assert ours.mask_dtype == theirs.mask_dtype == "torch.float32" and ours.target_frozen
    assert list(ours.log) == list(theirs.log)
    assert ours.log["mask_fraction"] == theirs.log["mask_fraction"]  # the same torch.rand draws
    for key, values in theirs.log.items():
        assert close(ours.log[key], values, 1e-4, 1e-6), key


def test_cleanrl_ppo_lstm(programs):
    ours, theirs = _both(programs, "cleanrl_ppo_lstm")  # per-step LSTM with done resets
    assert ours.replay_gap == theirs.replay_gap == 0.0  # the replay resets states as the rollout
    assert ours.lstm_param_names == theirs.lstm_param_names
    assert ours.state_shapes == theirs.state_shapes == [[1, 4, 16], [1, 4, 16]]
    assert ours.returns_log == theirs.returns_log and ours.clipfracs_log == theirs.clipfracs_log
    assert close(ours.losses_log, theirs.losses_log, 1e-4, 1e-6)  # pg losses near 0: atol
