"""A twenty-second round of PyTorch programs (round c): self-supervised learning (VICReg, MoCo
v2, SimSiam, data2vec, I-JEPA), interpretability (integrated gradients, SmoothGrad and guided
backprop by module backward hooks, DeepLIFT and LRP, influence functions by Hessian-vector
products, TransformerLens-style hook points with activation and attribution patching, steering
vectors) and continual learning (GEM/A-GEM, Learning without Forgetting, Synaptic
Intelligence), run with ``torch`` bound to minigrad and with PyTorch itself and compared value
by value.

Tolerances: the float64 programs (integrated gradients, saliency maps, DeepLIFT/LRP) agree to
1e-10 relative (influence functions, whose L-BFGS refits stop on tolerances, to 1e-8; 2e-14
measured); float32 training is compared at 1e-5 relative with an absolute floor of 1e-6 (the
runs drift by a few ulps per step: at most 2e-6 relative measured on these programs, the
larger relative figures only on values below 1e-4). Accuracies, token ids, shapes, names and
error messages are compared exactly."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)

F32 = (1e-5, 1e-6)
F64 = (1e-10, 1e-12)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def _same(ours, theirs, *names):
    for name in names:
        assert getattr(ours, name) == getattr(theirs, name), name


def test_vicreg(programs):
    ours, theirs = _both(programs, "vicreg")  # off_diagonal view trick, var/cov terms
    assert close(ours.losses, theirs.losses, *F32) and close(ours.terms, theirs.terms, *F32)
    assert close([ours.embed_std, ours.off_cov], [theirs.embed_std, theirs.off_cov], *F32)
    _same(ours, theirs, "probe_acc", "final_lr", "projector_names")
    assert sum(ours.losses[-4:]) < 0.8 * sum(ours.losses[:4]) and ours.probe_acc > 0.9
    assert ours.terms[-1][1] < ours.terms[0][1] * 2 and ours.final_lr == 0.0


def test_moco_v2(programs):
    ours, theirs = _both(programs, "moco_v2")  # momentum encoder, queue, shuffle-BN emulation
    assert close(ours.losses, theirs.losses, *F32) and ours.top1 == theirs.top1
    _same(ours, theirs, "ptrs", "trainable", "frozen", "buffer_names", "knn_acc")
    assert ours.key_grads_none and ours.trainable == ours.frozen
    assert close(ours.queue_norms, [1.0] * 5, 1e-6) and ours.ptrs[:3] == [16, 32, 0]
    assert ours.knn_acc > 0.9


def test_simsiam(programs):
    ours, theirs = _both(programs, "simsiam")  # stop-gradient, fix_lr predictor group
    assert close(ours.losses, theirs.losses, *F32)
    assert close(ours.output_std, theirs.output_std, *F32) and ours.group_lrs == theirs.group_lrs
    _same(ours, theirs, "fc_bias_grad_none", "last_bn_params", "z_grad_fn", "probe_acc")
    assert sum(ours.losses[-3:]) / 3 < -0.5 < sum(ours.losses[:3]) / 3  # cosine rose
    assert min(ours.output_std) > 0.2  # no collapse (1/sqrt(16) = 0.25 for spread outputs)
    assert ours.z_grad_fn is None and ours.fc_bias_grad_none and ours.group_lrs[-1][1] == 0.05


def test_data2vec(programs):
    ours, theirs = _both(programs, "data2vec")  # EMA teacher, top-k instance-normed targets
    assert close(ours.losses, theirs.losses, *F32) and close(ours.drift, theirs.drift, *F32)
    assert close(ours.target_stats, theirs.target_stats, *F32) and ours.decays == theirs.decays
    _same(ours, theirs, "teacher_trainable", "hook_count_after", "sample_size")
    assert sum(ours.losses[-5:]) < 0.95 * sum(ours.losses[:5])
    assert ours.teacher_trainable == 0 and ours.target_stats[0][2] == (32, 16)


def test_ijepa(programs):
    ours, theirs = _both(programs, "ijepa")  # block masks, gather, predictor mask tokens
    assert close(ours.losses, theirs.losses, *F32) and ours.lrs == theirs.lrs
    _same(ours, theirs, "shapes", "group_sizes", "pos_trainable")
    assert sum(ours.losses[-4:]) < 0.9 * sum(ours.losses[:4]) and not ours.pos_trainable


def test_integrated_gradients(programs):
    ours, theirs = _both(programs, "integrated_gradients")  # float64, Riemann and Gauss-Legendre
    assert close(ours.train_losses, theirs.train_losses, *F64) and ours.accuracy == 1.0
    for name in ("deltas", "attr_sums", "bar_share"):
        assert close(getattr(ours, name), getattr(theirs, name), *F64), name
    assert ours.deltas["zeros"] < 1e-8 < ours.deltas["riemann_middle"] < ours.deltas["riemann_left"]
    assert ours.bar_share["zeros"] > 0.8  # the attribution sits on the class's bar


def test_smoothgrad_guided_backprop(programs):
    ours, theirs = _both(programs, "smoothgrad_guided_backprop")  # full backward hooks on ReLU
    assert close(ours.results, theirs.results, *F64)
    _same(ours, theirs, "restored_equal", "hooks_left", "inplace_error")
    for i in (0, 1):
        assert ours.results[i]["guided_nonneg_frac"] == 1.0 and ours.results[i]["left_over"] == 0
        assert ours.results[i]["grad_x_input"][2] > ours.results[i]["vanilla"][2]
    assert ours.inplace_error.startswith("Output 0 of BackwardHookFunction is a view")


def test_influence_functions(programs):
    ours, theirs = _both(programs, "influence_functions")  # double-backward HVPs, CG, LiSSA
    for name in ("train_loss", "influences", "predicted", "actual", "min_eig", "lissa_error"):
        assert close(getattr(ours, name), getattr(theirs, name), 1e-8, 1e-12), name
    _same(ours, theirs, "order", "hessian_symmetric")
    assert len(ours.cg_residuals) == len(theirs.cg_residuals) and ours.cg_error < 1e-8
    assert ours.lissa_error < 0.3 and ours.min_eig > 0
    assert all(p * a > 0 for p, a in zip(ours.predicted, ours.actual))  # right direction


def test_transformerlens_hooks(programs):
    ours, theirs = _both(programs, "transformerlens_hooks")  # patching, ablation, logit lens
    assert close(ours.losses, theirs.losses, *F32) and ours.losses[-1] < 0.1 * ours.losses[0]
    for name in ("patching", "ablations", "prev_token_score", "attribution"):
        assert close(getattr(ours, name), getattr(theirs, name), *F32), name
    assert close([ours.clean_diff, ours.attn_out_grad], [theirs.clean_diff, theirs.attn_out_grad])
    _same(ours, theirs, "cache_keys", "pattern_shape", "lens", "hooks_left")
    assert ours.patching[0][3] == 1.0 and ours.lens[-1][1] == 1.0 > ours.lens[0][1]
    assert ours.hooks_left == ours.hooks_left_after_backward == 0


def test_steering_vectors(programs):
    ours, theirs = _both(programs, "steering_vectors")  # forward (pre-)hooks add a vector
    assert close(ours.losses, theirs.losses, *F32) and close(ours.steer_norm, theirs.steer_norm)
    _same(ours, theirs, "sweep", "pre_hook_odd", "unsteered_again", "hooks_left", "tied")
    assert ours.out_proj_calls == theirs.out_proj_calls == 0
    assert ours.sweep[0.0][0] == 0.0 and ours.sweep[2.0][0] == 1.0 and ours.unsteered_again


def test_gem_agem(programs):
    ours, theirs = _both(programs, "gem_agem")  # gradient projection with episodic memories
    assert ours.results == theirs.results and ours.average_acc == theirs.average_acc
    bwt = {m: r[1] for m, r in ours.results.items()}
    assert bwt["gem"] > bwt["finetune"] and bwt["agem"] > bwt["finetune"]
    assert ours.results["gem"][2] > 0 and ours.results["agem"][2] > 0  # projections happened


def test_lwf_distillation(programs):
    ours, theirs = _both(programs, "lwf_distillation")  # KD on the old heads
    assert close(ours.results, theirs.results, *F32) and close(ours.forgetting, theirs.forgetting)
    assert ours.forgetting["lwf"] > ours.forgetting["finetune"]
    kl, by_hand = zip(*ours.results["lwf"][1])
    assert close(list(kl), list(by_hand), 1e-5, 1e-6) and ours.results["lwf"][2:4] == (True, 3)


def test_synaptic_intelligence(programs):
    ours, theirs = _both(programs, "synaptic_intelligence")  # path-integral importance
    assert close(ours.results, theirs.results, *F32) and ours.retained == theirs.retained
    assert ours.retained["si"] > ours.retained["finetune"] + 0.1
    matrix, surrogate, stats, buffers = ours.results["si"]
    assert surrogate[0] == 0.0 < surrogate[1] and stats[2] == 0  # omega >= 0 here
    assert buffers[0] == "fc1__bias_SI_omega"


def test_deeplift_lrp(programs):
    ours, theirs = _both(programs, "deeplift_lrp")  # multipliers via full backward hooks
    assert close(ours.attributions, theirs.attributions, *F64) and ours.top_feature == {
        k: 1 for k in ("deeplift", "grad_x_input", "lrp")
    }
    assert close(ours.lrp_conservation, theirs.lrp_conservation, *F64)
    _same(ours, theirs, "accuracy", "hooks_left", "top_feature")
    assert ours.summation_error < 1e-12 and theirs.summation_error < 1e-12  # sums to delta
    assert ours.accuracy == 1.0 and ours.hooks_left == 0
