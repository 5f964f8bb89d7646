"""A sixteenth round of PyTorch programs from popular courses and books (Karpathy's "Zero to
Hero" makemore lectures, the UvA deep learning tutorials, Raschka's book, fast.ai's lessons
written in plain PyTorch), run with ``torch`` bound to minigrad and with PyTorch itself and
compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_makemore_activations_bn(programs):
    ours, theirs = _both(programs, "makemore_activations_bn")  # retain_grad, histogram, % format
    assert close(ours.lossi, theirs.lossi, 1e-5, 1e-6) and ours.lossi[-1] < ours.lossi[0] - 0.05
    assert ours.n_params == theirs.n_params == 2664
    weights = [j for j, p in enumerate(theirs.parameters) if p.ndim == 2]
    assert close(
        [[r[j] for j in weights] for r in ours.ud],
        [[r[j] for j in weights] for r in theirs.ud],
        1e-4,
    )
    assert ours.activation_lines == theirs.activation_lines
    assert close(ours.saturations, theirs.saturations, 1e-6) and max(ours.saturations) < 0.15
    assert close(ours.hist_peaks, theirs.hist_peaks, 1e-4) and ours.hist_peaks[0][3] == 101
    assert close(ours.grad_stds, theirs.grad_stds, 1e-4, 1e-8)
    assert close(ours.grad_data_ratios, theirs.grad_data_ratios, 1e-4, 1e-8)
    assert close(ours.split_losses, theirs.split_losses, 1e-5) and ours.split_losses[0] < 2.7
    assert close(ours.running_var_sample, theirs.running_var_sample, 1e-5)


def test_makemore_wavenet(programs):
    ours, theirs = _both(programs, "makemore_wavenet")  # FlattenConsecutive, var over (0, 1)
    assert ours.shape_walk == theirs.shape_walk and ours.shape_walk[-1] == ("Linear", (4, 23))
    assert ours.shape_walk[5] == ("FlattenConsecutive", (4, 2, 32))
    assert ours.n_params == theirs.n_params == 1841
    assert close(ours.lossi, theirs.lossi, 1e-5, 1e-6)
    assert (
        close(ours.smoothed, theirs.smoothed, 1e-5) and ours.smoothed[-1] < ours.smoothed[0] - 0.08
    )
    assert close(ours.split_losses, theirs.split_losses, 1e-5)
    assert ours.running_mean_shape == theirs.running_mean_shape == (1, 1, 16)
    assert ours.samples == theirs.samples


def test_uva_optim_init(programs):
    ours, theirs = _both(programs, "uva_optim_init")  # hand-written SGD/momentum/Adam, init
    for name, (acts, grads) in theirs.init_stats.items():
        assert close(ours.init_stats[name][0], acts, 1e-4, 1e-12), name
        assert close(ours.init_stats[name][1], grads, 1e-4, 1e-12), name
    acts = ours.init_stats["const_variance"][0]
    assert acts[0] > 2 * acts[1] > 4 * acts[2]  # std 0.1 shrinks the variance layer by layer
    assert ours.init_stats["const"][1][:3] == [0.0, 0.0, 0.0]  # identical units: no spread
    for name in theirs.curve_ends:
        assert close(ours.curve_ends[name], theirs.curve_ends[name], 1e-4, 1e-5), name
        assert close(ours.bumpy_ends[name], theirs.bumpy_ends[name], 1e-4, 1e-6), name
    assert abs(ours.curve_ends["Adam"][0]) < 0.2 < 4 < ours.curve_ends["SGD"][0]
    assert ours.bumpy_ends["Adam"][2] < -3 < -0.01 < ours.bumpy_ends["SGD"][2]
    assert ours.points_shape == theirs.points_shape == (3, 3)
    assert ours.adam_gap < 1e-5  # the hand-written Adam steps as torch.optim.Adam
    for name, losses in theirs.train_losses.items():
        assert close(ours.train_losses[name], losses, 1e-4, 1e-6), name
    assert ours.train_losses["Adam"][-1] < 0.2 * ours.train_losses["Adam"][0]


def test_uva_transformer_reverse(programs):
    ours, theirs = _both(programs, "uva_transformer_reverse")  # qkv chunk, _LRScheduler, flip
    # Adam's normalised steps on near-zero gradients grow float rounding (PyTorch's own, one
    # thread against several) to 1e-3 by step 16: compare the steps before, then what each learned
    assert close(ours.losses[:9], theirs.losses[:9], 1e-5, 1e-6)
    assert close(ours.accs[:9], theirs.accs[:9], 1e-6)
    assert ours.losses[-1] < 0.15 and theirs.losses[-1] < 0.15 and ours.val_acc > 0.9
    assert close(ours.lrs, theirs.lrs, 1e-12) and type(ours.lrs[0]) is type(theirs.lrs[0])
    assert ours.attn_antidiagonal > 0.4  # each position attends to its mirror image
    assert ours.attn_shape == theirs.attn_shape == (2, 2, 6, 6)
    assert ours.buffer_keys == theirs.buffer_keys and ours.state_keys == theirs.state_keys == 20
    assert close(ours.pe_sample, theirs.pe_sample, 1e-6)
    assert ours.masked_upper == theirs.masked_upper == 0.0
    assert ours.mask_shapes == theirs.mask_shapes


def test_fastai_titanic_scratch(programs):
    ours, theirs = _both(programs, "fastai_titanic_scratch")  # sub_ on grads, f"{loss:.3f}"
    assert ours.first_loss == pytest.approx(theirs.first_loss, rel=1e-6)
    for name in ("linear", "sigmoid", "matrix", "nn", "deep"):
        assert getattr(ours, f"{name}_printed") == getattr(theirs, f"{name}_printed"), name
        assert getattr(ours, f"{name}_acc") == getattr(theirs, f"{name}_acc") > 0.85, name
    assert ours.linear_printed[-1] < "0.26" and ours.nn_printed[-1] < "0.11"
    assert ours.coeffs_shown == theirs.coeffs_shown
    assert ours.const_is_leaf and theirs.const_is_leaf


def test_fastai_collab_scratch(programs):
    ours, theirs = _both(programs, "fastai_collab_scratch")  # create_params, res +=, svd
    assert ours.n_params == theirs.n_params == 450
    assert close(ours.dot_history, theirs.dot_history, 1e-3, 1e-5)
    assert ours.dot_history[-1][1] < 0.75 * ours.dot_history[0][1]
    assert ours.lowest == theirs.lowest and ours.highest == theirs.highest
    assert ours.bias_corr == pytest.approx(theirs.bias_corr, rel=1e-4) and ours.bias_corr > 0.8
    assert ours.nearest == theirs.nearest
    assert close(ours.top_singular, theirs.top_singular, 1e-4) and ours.pca_shape == (20, 3)
    assert close(ours.nn_history, theirs.nn_history, 1e-3, 1e-5)
    assert close(ours.nn_pred_range, theirs.nn_pred_range, 1e-4)


def test_uva_cnn_architectures(programs):
    ours, theirs = _both(programs, "uva_cnn_architectures")  # inception, (pre-act) res, dense
    for kind, (n_params, losses, acc, feats, running_var) in theirs.results.items():
        mine = ours.results[kind]
        assert mine[0] == n_params and mine[3] == feats, kind
        assert close(mine[1], losses, 1e-5, 1e-6) and mine[1][-1] < mine[1][0], kind
        assert mine[2] == acc > 0.3, kind
        assert close(mine[4], running_var, 1e-5, 1e-7), kind
    assert [r[0] for r in ours.results.values()] == [1252, 5148, 5148, 1244]
    assert ours.gelu_error == theirs.gelu_error == "Unsupported nonlinearity gelu"


def test_uva_gnn_by_hand(programs):
    ours, theirs = _both(programs, "uva_gnn_by_hand")  # bmm GCN, nonzero/index_select GAT
    assert ours.gcn_example == theirs.gcn_example == [[[1, 2], [3, 4], [4, 5], [4, 5]]]
    assert close(ours.gat_example, theirs.gat_example, 1e-6)
    assert close(ours.gat_attn, theirs.gat_attn, 1e-6) and sum(ours.gat_attn) == pytest.approx(1)
    assert ours.n_edges == theirs.n_edges
    for name, (losses, val_acc) in theirs.results.items():
        assert close(ours.results[name][0], losses, 1e-4, 1e-6), name
        assert ours.results[name][1] == val_acc > 0.7, name
        assert ours.results[name][0][-1] < 0.5 * ours.results[name][0][0], name


def test_uva_activation_functions(programs):
    ours, theirs = _both(programs, "uva_activation_functions")  # hand-written activations
    for name, grads in theirs.grad_table.items():
        assert close(ours.grad_table[name], grads, 2e-6, 1e-7), name
    assert [ours.grad_table[k][5] for k in ("sigmoid", "relu", "leakyrelu", "swish")] == (
        pytest.approx([0.25, 0.0, 0.1, 0.5])
    )  # at x = 0: (x > 0).float() gates ReLU's gradient off, where() takes the alpha branch
    assert ours.matches_builtin == theirs.matches_builtin == [True] * 4
    for name, (stds, losses, dead, acc) in theirs.results.items():
        mine = ours.results[name]
        assert close(mine[0], stds, 1e-5, 1e-9) and close(mine[1], losses, 1e-5, 1e-6), name
        assert mine[2] == dead and mine[3] == acc, name
    assert ours.results["sigmoid"][0][0] < 0.01 * ours.results["sigmoid"][0][-1]  # vanishing
    assert ours.results["tanh"][1][-1] < 0.1 < 1.0 < ours.results["sigmoid"][1][-1]
    assert ours.saved_config == theirs.saved_config and ours.reload_gap == 0.0


def test_uva_image_flows(programs):
    ours, theirs = _both(programs, "uva_image_flows")  # dequantization, couplings, squeeze
    assert ours.n_params == theirs.n_params == 9454 and ours.buffers == theirs.buffers
    assert close(ours.bpds, theirs.bpds, 1e-5) and ours.bpds[-1] < 0.5 * ours.bpds[0]
    assert close(ours.scaling, theirs.scaling, 1e-5)
    assert ours.exact and theirs.exact  # encode then decode gives the discrete images back
    assert ours.latent_shape == theirs.latent_shape == (4, 4, 4, 4)
    assert close(ours.log_px, theirs.log_px, 1e-5)
    assert ours.sample_info == theirs.sample_info == ["torch.int32", (3, 1, 8, 8), 0, 7]
    assert ours.checker == theirs.checker and ours.squeeze_roundtrip


def test_raschka_pytorch_mechanics(programs):
    ours, theirs = _both(programs, "raschka_pytorch_mechanics")  # NoisyLinear, bucketize, XOR
    assert close(ours.tensor_facts, theirs.tensor_facts, 1e-6, 1e-7)
    assert ours.epoch_batches == theirs.epoch_batches
    assert close(ours.grad_check, theirs.grad_check, 1e-6) and ours.grad_check[0] == pytest.approx(
        ours.grad_check[2]
    )
    assert ours.feature_facts == theirs.feature_facts
    assert close(ours.loss_hist_train, theirs.loss_hist_train, 1e-5, 1e-6)
    assert close(ours.loss_hist_valid, theirs.loss_hist_valid, 1e-5, 1e-6)
    assert ours.accuracy_hist_train == theirs.accuracy_hist_train
    assert ours.accuracy_hist_valid == theirs.accuracy_hist_valid
    assert ours.accuracy_hist_valid[-1] > 0.85 and ours.loss_hist_train[-1] < 0.5
    assert ours.train_acc_type == theirs.train_acc_type == "Tensor"  # += of a 0-dim mean
    assert ours.predicted == theirs.predicted and ours.params == theirs.params


def test_raschka_graph_conv(programs):
    ours, theirs = _both(programs, "raschka_graph_conv")  # block-diagonal collate, sum pool
    assert ours.first_batch == theirs.first_batch and ours.first_batch[0] == (47, 47)
    assert ours.block_offdiag == theirs.block_offdiag == 0.0
    assert close(ours.initial_probs, theirs.initial_probs, 1e-4)
    assert close(ours.single, theirs.single, 1e-4)  # one graph: the batch matrix is None
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6)  # rand weights: large sums, 5e-6 apart
    assert ours.accuracy == theirs.accuracy > 0.7 and ours.positives == theirs.positives == 21
