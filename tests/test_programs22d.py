"""A twenty-second round of PyTorch programs (helper d): graph networks, a pair-representation
module from structural biology and generative models, each run with ``torch`` bound to
minigrad and with PyTorch itself and compared value by value: APPNP's personalised-PageRank
propagation, GCNII's initial residual and identity mapping over a sparse adjacency, a graph
transformer with Laplacian-eigenvector positional encodings (``linalg.eigh``, random sign
flips), node2vec's biased walks and skip-gram with negative sampling, R-GCN with basis decomposition and per-relation ``index_add_``, Graph U-Net's top-k pooling
and unpooling, a GNS particle simulator (radius graph by ``cdist``, noise injection, rollout), AlphaFold's triangle
multiplicative updates and triangle attention, EDM's preconditioning, loss and Heun sampler,
rectified flow with reflow, MaskGIT's cosine-schedule masking and confidence decoding, a
variational graph auto-encoder for link prediction (ROC-AUC by hand), and BigGAN's
class-conditional batch norm with spectral norm and orthogonal regularisation, and NCSN's
denoising score matching over a noise ladder with annealed Langevin sampling.
Float32 training is compared at 1e-5 relative (the runs differ by 1e-7 to 7e-7 measured;
BigGAN's samples by up to 7e-6 and GNS's second-difference losses by 2e-5, where float64
runs agree to 3e-14); the float64 program
(AlphaFold's pair stack) at 1e-10."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_appnp_pagerank(programs):
    ours, theirs = _both(programs, "appnp_pagerank")  # index_put_ accumulate, PPR power iteration
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert ours.losses[-1] < 0.5 * ours.losses[0] and ours.best_acc == theirs.best_acc > 0.9
    assert ours.val_accs == theirs.val_accs and ours.num_edges == theirs.num_edges
    assert (
        ours.state_keys
        == theirs.state_keys
        == ["fcs.0.weight", "fcs.1.weight", "propagation.A_hat"]
    )
    assert close(ours.row_sums, [1.0] * 40, 1e-6, 1e-6)
    assert close(ours.ppr_row_sum, theirs.ppr_row_sum, 1e-5, 1e-6)


def test_gcnii_deep(programs):
    ours, theirs = _both(programs, "gcnii_deep")  # torch.spmm on COO, two Adam groups
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.test_accs == theirs.test_accs
    assert min(ours.losses[-10:]) < 0.3 * ours.losses[0] and max(ours.test_accs) > 0.6
    assert ours.adj_dense_rows == theirs.adj_dense_rows == [1.0] * 6
    assert ours.weight_decays == theirs.weight_decays and ours.n_params == theirs.n_params
    assert close(ours.conv_grad_norms, theirs.conv_grad_norms, 1e-5, 1e-9)
    assert ours.output_dtype == theirs.output_dtype == "torch.float32"


def test_graph_transformer_lappe(programs):
    ours, theirs = _both(programs, "graph_transformer_lappe")  # eigh, sign flips, -inf masks
    assert ours.skipped == theirs.skipped and ours.pe_shapes == theirs.pe_shapes
    assert close(ours.eigvals_first, theirs.eigvals_first, 1e-10, 1e-12)
    assert ours.eigval_ranges == theirs.eigval_ranges and all(map(all, ours.eigval_ranges))
    assert close(ours.epoch_losses, theirs.epoch_losses, 1e-5, 1e-6)
    assert ours.epoch_losses[-1] < 0.5 * ours.epoch_losses[0] and ours.lrs == theirs.lrs
    assert close(ours.attn_rows, theirs.attn_rows, 1e-5, 1e-6) and ours.attn_zero_off_graph


def test_rgcn_basis(programs):
    ours, theirs = _both(programs, "rgcn_basis")  # einsum bases, bmm messages, index_add_
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.accs == theirs.accs
    assert ours.accs[-1] == 1.0 and ours.test_acc == theirs.test_acc
    assert ours.norm_check == theirs.norm_check == [0.0, 1.0] and ours.w_shape == (6, 16, 3)
    assert close(ours.grad_norms, theirs.grad_norms, 1e-5, 1e-9)


def test_alphafold_triangle(programs):
    ours, theirs = _both(programs, "alphafold_triangle")  # float64 einsum triangle updates
    assert (
        close(ours.losses, theirs.losses, 1e-10, 1e-12) and ours.losses[-1] < 0.5 * ours.losses[0]
    )
    assert ours.incoming_is_transposed_outgoing and theirs.incoming_is_transposed_outgoing
    assert close(ours.checksums, theirs.checksums, 1e-10, 1e-12)
    assert close(ours.grad_norms, theirs.grad_norms, 1e-10, 1e-12)
    assert close(ours.pred_masked_row, theirs.pred_masked_row, 1e-10, 1e-12)


def test_edm_heun_sampler(programs):
    ours, theirs = _both(programs, "edm_heun_sampler")  # preconditioning, EMA lerp, Heun
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.t_step_values, theirs.t_step_values, 1e-12, 0)
    assert ours.t_step_values[0] == 80.0 and ours.t_step_values[-1] == 0.0
    assert ours.sample_dtype == theirs.sample_dtype == "torch.float64"
    assert close(ours.first_samples, theirs.first_samples, 1e-5, 1e-6)
    assert (
        close(ours.mean_dist, theirs.mean_dist, 1e-5, 1e-6) and ours.mean_dist < 0.3
    )  # 0.42 untrained


def test_rectified_flow_reflow(programs):
    ours, theirs = _both(programs, "rectified_flow_reflow")  # 1-RF, reflow pairs, Euler
    assert close(ours.loss_curve_1, theirs.loss_curve_1, 1e-5, 1e-6)
    assert close(ours.loss_curve_2, theirs.loss_curve_2, 1e-5, 1e-6)
    assert ours.loss_curve_1[-1] < 0.3 * ours.loss_curve_1[0]
    assert close([ours.straight_1, ours.straight_2], [theirs.straight_1, theirs.straight_2], 1e-5)
    assert ours.straight_2 < 0.5 * ours.straight_1  # reflow straightens the paths
    assert close(ours.one_step_dist, theirs.one_step_dist, 1e-5, 1e-6) and ours.traj_len == 6


def test_maskgit_cosine(programs):
    ours, theirs = _both(programs, "maskgit_cosine")  # topk masking, gumbel confidence decoding
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.mask_fracs == theirs.mask_fracs
    assert sum(ours.losses[-5:]) < 0.7 * sum(ours.losses[:5])
    assert ours.masked_history == theirs.masked_history == [112, 88, 48, 0]
    assert ours.sample_list == theirs.sample_list and ours.consistency == theirs.consistency
    assert ours.consistency > 0.6 and ours.schedule == theirs.schedule


def test_vgae_link_prediction(programs):
    ours, theirs = _both(programs, "vgae_link_prediction")  # reparameterisation, AUC by hand
    assert ours.sizes == theirs.sizes == (49, 12, 12)
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert ours.losses[-1] < 0.5 * ours.losses[0]
    assert close(ours.aucs, theirs.aucs, 1e-5, 1e-6) and ours.aucs[-1][0] > 0.7  # 0.5: chance
    assert close([ours.kl_final, ours.z_norms], [theirs.kl_final, theirs.z_norms], 1e-5, 1e-6)


def test_biggan_conditional_bn(programs):
    ours, theirs = _both(programs, "biggan_conditional_bn")  # ccbn, spectral norm, ortho reg
    assert close(ours.d_losses, theirs.d_losses, 1e-5, 1e-6)
    assert close(ours.g_losses, theirs.g_losses, 1e-5, 1e-6)
    # float32 drift through the GAN steps reaches 7e-6 here; a float64 run agrees to 3e-14
    assert close(ours.sample_range, theirs.sample_range, 3e-5, 1e-6)
    assert -1 < ours.sample_range[0] < 0 < ours.sample_range[1] < 1  # tanh output, not stuck
    assert close([ours.stored, ours.sn_u], [theirs.stored, theirs.sn_u], 1e-5, 1e-6)
    assert abs(ours.sigma_ratio - 1) < 1e-5  # the spectral norm normalises D's last layer
    assert ours.state_keys == theirs.state_keys and ours.z_chunks == theirs.z_chunks == [3, 3, 3]
    assert ours.sample_shape == (4, 3, 8, 8)


def test_ncsn_annealed_langevin(programs):
    ours, theirs = _both(programs, "ncsn_annealed_langevin")  # DSM over a sigma ladder
    assert close(ours.sigma_values, theirs.sigma_values, 1e-7, 0) and ours.n_images == 60
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert sum(ours.losses[-8:]) < 0.85 * sum(ours.losses[:8])
    assert close(ours.grad_norms, theirs.grad_norms, 1e-5, 1e-6)
    assert close(ours.first_final, theirs.first_final, 1e-5, 1e-6)
    assert ours.radius_error == pytest.approx(theirs.radius_error, rel=1e-5)
    assert ours.radius_error < 0.7 * ours.init_radius_error  # the samples moved to the ring


def test_node2vec_skipgram(programs):
    ours, theirs = _both(programs, "node2vec_skipgram")  # NumPy walks, SGNS, LBFGS probe
    assert ours.walk_sample == theirs.walk_sample and ours.num_pairs == theirs.num_pairs == 4608
    assert close(ours.epoch_losses, theirs.epoch_losses, 1e-5, 1e-6)
    assert ours.epoch_losses[-1] < 0.75 * ours.epoch_losses[0]
    assert ours.nn_accuracy == theirs.nn_accuracy == 1.0
    assert ours.probe_accuracy == theirs.probe_accuracy == 1.0


def test_graph_unet_topk(programs):
    ours, theirs = _both(programs, "graph_unet_topk")  # topk pooling, A^2, scatter back
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.accs == theirs.accs
    assert ours.losses[-1] < 0.5 * ours.losses[0] and ours.accs[-1] >= 0.9
    assert ours.pooled_sets == theirs.pooled_sets and [len(s) for s in ours.pooled_sets] == [14, 7]
    assert ours.zero_rows == theirs.zero_rows and ours.unpooled_zero and theirs.unpooled_zero
    assert close(ours.pooled_adj_rowsums, [1.0] * 4, 1e-6, 1e-6)


def test_gns_particles(programs):
    ours, theirs = _both(programs, "gns_particles")  # cdist radius graph, noise, rollout
    assert ours.edge_counts == theirs.edge_counts and max(ours.edge_counts) > 10
    # float32 drift reaches 2e-5 (targets are second differences / DT^2); float64 agrees to 1e-14
    assert close(ours.losses, theirs.losses, 5e-5, 1e-6)
    assert sum(ours.losses[-10:]) < 0.5 * sum(ours.losses[:10])
    assert close(ours.acc_stats, theirs.acc_stats, 1e-5, 1e-6)
    assert close(ours.rollout_mse, theirs.rollout_mse, 5e-5, 1e-8)
    assert ours.rollout_mse < 0.2 * ours.still_mse  # better than predicting no motion
