"""A twelfth round of PyTorch programs, on vision and generative models (pix2pix, StyleGAN2's
modulated convolutions, Glow, energy-based models, guided diffusion, inpainting, detection
heads, optical flow, super-resolution), run with ``torch`` bound to minigrad and with PyTorch
itself and compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_pix2pix(programs):
    ours, theirs = _both(programs, "pix2pix")  # U-Net skips by cat, PatchGAN, GANLoss + L1
    assert ours.patch_shape == theirs.patch_shape == (2, 1, 3, 3)
    assert close(ours.d_losses, theirs.d_losses, 1e-4, 1e-5)
    assert close(ours.g_gan, theirs.g_gan, 1e-4, 1e-5)
    assert close(ours.g_l1, theirs.g_l1, 1e-4, 1e-4) and ours.g_l1[-1] < 0.5 * ours.g_l1[0]
    assert ours.pixel_accuracy == pytest.approx(theirs.pixel_accuracy, abs=2e-3)
    assert ours.eval_l1 == pytest.approx(theirs.eval_l1, rel=1e-3)
    assert ours.d_grad_none and ours.n_params == theirs.n_params


def test_stylegan2_modconv(programs):
    ours, theirs = _both(programs, "stylegan2_modconv")  # grouped modulated conv, R1, mixing
    assert ours.int_betas_error == theirs.int_betas_error  # Adam(betas=(0, 0.99)) refused
    # R1 gives zero (not None) grads before leaky_relu, so Adam steps them as PyTorch. At step
    # 20 one pre-activation of D's second leaky_relu is +6e-8 in PyTorch and -5e-8 here
    # (float32 rounding), so its slope (1 vs 0.2) moves D's conv grads by up to 2e-2: the
    # steps before agree to 5e-7, the later ones to 2e-3 (a float64 run agrees to 6e-16)
    assert close(ours.d_losses[:21], theirs.d_losses[:21], 1e-5, 1e-6)
    assert close(ours.g_losses[:20], theirs.g_losses[:20], 1e-5, 1e-6)
    assert close(ours.r1_losses[:5], theirs.r1_losses[:5], 1e-5, 1e-6)
    for name in ("d_losses", "g_losses", "r1_losses"):
        assert close(getattr(ours, name), getattr(theirs, name), 1e-2, 1e-5), name
    assert ours.sample_shape == theirs.sample_shape == (2, 1, 8, 8)
    assert close(ours.truncation_spread, theirs.truncation_spread, 1e-3, 1e-5)
    assert ours.truncation_spread[1] < ours.truncation_spread[0]
    assert close(ours.mix_sample, theirs.mix_sample, 1e-3, 1e-5)
    # noise strengths start at 0 and Adam(betas=(0, .99)) moves them ~lr=2e-3 a step: after
    # step 20 they differ by 1.5e-4 (a float64 run agrees to 3e-15)
    assert close(ours.noise_strengths, theirs.noise_strengths, 1e-2, 5e-4)
    assert close(ours.mapping_weight_sample, theirs.mapping_weight_sample, 1e-4, 1e-5)


def test_glow(programs):
    ours, theirs = _both(programs, "glow")  # ActNorm init, LU 1x1 conv, affine coupling
    assert ours.init_flags == theirs.init_flags == [1, 1, 1]
    assert close(ours.actnorm_loc, theirs.actnorm_loc, 1e-5, 1e-6)
    assert close(ours.bpds, theirs.bpds, 1e-4, 1e-5) and ours.bpds[-1] < ours.bpds[0] - 0.4
    assert ours.reconstruction_gap < 1e-5 and ours.slogdet_gap < 1e-5
    assert ours.det_sign == theirs.det_sign
    assert close(ours.sample_stats, theirs.sample_stats, 1e-3, 1e-5)
    assert ours.lu_shapes == theirs.lu_shapes


def test_jem_sgld(programs):
    ours, theirs = _both(programs, "jem_sgld")  # logsumexp energy, SGLD by autograd.grad
    assert close(ours.grad_sample, theirs.grad_sample, 1e-4, 1e-7)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and ours.losses[-1] < ours.losses[0]
    assert close(ours.ce_losses, theirs.ce_losses, 1e-4, 1e-5)
    assert close(ours.ebm_gaps, theirs.ebm_gaps, 1e-3, 1e-4)
    assert ours.accuracy == theirs.accuracy and ours.accuracy > 0.95
    energies = [ours.energy_data, ours.energy_noise, ours.energy_buffer]
    assert close(energies, [theirs.energy_data, theirs.energy_noise, theirs.energy_buffer], 1e-4)
    assert ours.energy_data < ours.energy_noise  # data is likelier than uniform noise
    assert close(ours.buffer_stats, theirs.buffer_stats, 1e-3, 1e-5)
    assert ours.conditional_shape == theirs.conditional_shape == (256, 1)


def test_cfg_diffusion(programs):
    ours, theirs = _both(programs, "cfg_diffusion")  # cosine schedule, null class, guidance
    assert close(ours.schedule, theirs.schedule, 1e-6, 1e-8)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)
    # 60 steps: the last ten losses average under 0.75 of the first ten's (0.47-0.63 over seeds
    # 0-3 in PyTorch; a single step's loss is too noisy to compare)
    assert sum(ours.losses[-10:]) < 0.75 * sum(ours.losses[:10])
    assert close(ours.class_errors, theirs.class_errors, 1e-3, 1e-4)
    assert ours.class_errors[1] < 0.5 * ours.class_errors[0]  # conditioning puts samples home


def test_partial_conv_inpainting(programs):
    ours, theirs = _both(programs, "partial_conv_inpainting")  # PartialConv2d mask renorm
    assert ours.probe == theirs.probe  # one hole corner: 0 there, 9 (renormalized) elsewhere
    assert ours.maskupdater_type.split(".")[-1] == theirs.maskupdater_type.split(".")[-1]
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and ours.losses[-1] < 0.5 * ours.losses[0]
    assert close(ours.hole_losses, theirs.hole_losses, 1e-4, 1e-5)
    # enc2's bias feeds BatchNorm, so its grad is float32 rounding (2e-9, not 1e-2 as the
    # others'); Adam scales that to lr-sized steps, a random walk that leaves the biases 2e-2
    # apart (the running means follow): train losses don't see it (they agree to 5e-7), eval's
    # hole_mae does, to 1.2e-4 (a float64 run agrees to 4e-15)
    assert ours.hole_mae == pytest.approx(theirs.hole_mae, rel=1e-3)
    assert ours.hole_mae < 0.5 * ours.fill_mean_mae  # better than filling with the mean
    assert ours.mask_coverage == theirs.mask_coverage and ours.mask_coverage[0] == 1.0


def test_fpn_roi_align(programs):
    ours, theirs = _both(programs, "fpn_roi_align")  # RoIAlign by grid_sample, NMS by hand
    assert close(ours.cls_losses, theirs.cls_losses, 1e-4, 1e-5)
    assert close(ours.box_losses, theirs.box_losses, 1e-3, 1e-5)
    assert ours.cls_losses[-1] < 0.8 * ours.cls_losses[0]
    assert ours.kept == theirs.kept and all(len(k) >= 1 for k in ours.kept)
    assert close(ours.best_ious, theirs.best_ious, 1e-4, 1e-5)
    assert close(ours.proposal_ious, theirs.proposal_ious, 1e-6)
    assert ours.level_counts == theirs.level_counts


def test_raft_correlation(programs):
    ours, theirs = _both(programs, "raft_correlation")  # matmul volume, pyramid, grid_sample
    assert ours.volume_shape == theirs.volume_shape == (1, 9, 4, 4)
    assert ours.centre_gap < 1e-5 and ours.self_match == theirs.self_match
    assert ours.half == pytest.approx(ours.half_direct, abs=1e-5)  # bilinear lookup between
    assert ours.half == pytest.approx(theirs.half, abs=1e-6)  # pixels = mean of their dots
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and close(ours.epes, theirs.epes, 1e-4)
    assert close(ours.grad_norms, theirs.grad_norms, 1e-3, 1e-5)
    assert close(ours.lrs, theirs.lrs, 1e-9, 1e-12)
    assert ours.test_epe == pytest.approx(theirs.test_epe, rel=1e-4)


def test_esrgan_rrdb(programs):
    ours, theirs = _both(programs, "esrgan_rrdb")  # RRDB, frozen feature loss, RaGAN
    assert ours.init_std == pytest.approx(theirs.init_std, rel=1e-5)  # kaiming_normal_ * 0.1
    assert close(ours.pretrain_losses, theirs.pretrain_losses, 1e-4, 1e-5)
    assert ours.pretrain_losses[-1] < 0.3 * ours.pretrain_losses[0]
    assert ours.frozen_grads == theirs.frozen_grads and not any(ours.frozen_grads)
    # Adam amplifies float32 rounding in the discriminator's near-cancelling gradients (float64
    # runs agree to the last digit): the adversarial phase agrees to 1e-3
    assert close(ours.g_losses, theirs.g_losses, 1e-3, 1e-5)
    assert close(ours.d_losses, theirs.d_losses, 1e-3, 1e-5)
    assert close(
        [ours.psnr_model, ours.psnr_nearest], [theirs.psnr_model, theirs.psnr_nearest], 1e-3
    )


def test_consistency_training(programs):
    ours, theirs = _both(programs, "consistency_training")  # Karras sigmas, EMA by _foreach
    assert close(ours.sigma_ends, [2.0, 0.002], 1e-5) and ours.curriculum == theirs.curriculum
    assert ours.boundary_gap == 0.0  # c_skip = 1, c_out = 0 at sigma_min: the identity
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6)
    assert close(ours.ring_errors, theirs.ring_errors, 1e-3, 1e-5)
    assert ours.ring_errors[1] < ours.ring_errors[0] < ours.noise_error  # two steps beat one
    assert ours.ema_gap == pytest.approx(theirs.ema_gap, rel=1e-4)


def test_hand_transforms_tta(programs):
    ours, theirs = _both(programs, "hand_transforms_tta")  # crops, jitter, flips, TTA by hand
    assert ours.crop_params == theirs.crop_params  # the same draws, the same rounding
    assert close(ours.probe_stats, theirs.probe_stats, 1e-5, 1e-6)
    assert ours.resized_sample[0] == theirs.resized_sample[0] == (3, 8, 12)
    assert close(ours.resized_sample[1], theirs.resized_sample[1], 1e-5, 1e-6)  # antialias
    assert close(ours.losses, theirs.losses, 1e-3, 1e-5) and ours.losses[-1] < ours.losses[0]
    assert ours.plain_acc == theirs.plain_acc and ours.tta_acc == theirs.tta_acc
    assert ours.tta_acc >= ours.plain_acc > 0.9 and ours.tta_prob_sums < 1e-6


def test_centernet(programs):
    ours, theirs = _both(programs, "centernet")  # Gaussian targets, focal loss, gather, topk
    assert close(ours.radius_values, theirs.radius_values, 1e-12)
    assert ours.peak_map == theirs.peak_map  # torch.max(..., out=a view) writes the heatmap
    # float32 rounding grows over 40 Adam steps through the clamped sigmoid (a float64 run
    # agrees throughout): the first steps agree closely, the rest to a few percent
    for name in ("hm_losses", "wh_losses", "off_losses"):
        assert close(getattr(ours, name)[:10], getattr(theirs, name)[:10], 1e-4, 1e-6), name
        assert close(getattr(ours, name), getattr(theirs, name), 5e-2, 1e-3), name
    assert ours.hm_losses[-1] < 0.4 * ours.hm_losses[0]
    assert ours.centre_hits == theirs.centre_hits == 1.0
    # the peak count is discrete: on the float32-drifted heatmaps (2e-3 apart after 40 steps)
    # a flat ridge's maximum moves by one pixel (0.07349 vs 0.07339 here, 0.07367 vs 0.07384
    # there), so decode PyTorch's heatmap with our _nms (max_pool2d, ==) and count exactly
    kept = ours._nms(ours.torch.tensor(theirs.out["hm"].numpy())) > 0
    assert (kept.numpy() == (theirs.heat > 0).numpy()).all()
    assert kept.sum().item() == theirs.peaks_kept and abs(ours.peaks_kept - theirs.peaks_kept) <= 2
    assert close(ours.top_scores, theirs.top_scores, 2e-2)


def test_learned_compression(programs):
    ours, theirs = _both(programs, "learned_compression")  # GDN, LowerBound, factorized prior
    assert ours.lower_bound_grad == theirs.lower_bound_grad == [0.0, 1.0, -1.0]
    assert close(ours.mse_losses[:20], theirs.mse_losses[:20], 1e-5, 1e-7)  # float32 rounding
    assert close(ours.mse_losses, theirs.mse_losses, 3e-3, 1e-6)  # grows to ~5e-4 by step 60
    assert close(ours.bpp_losses, theirs.bpp_losses, 1e-4, 1e-6)
    assert ours.mse_losses[-1] < 0.2 * ours.mse_losses[0] and ours.bpp_losses[-1] < 2.3
    assert close([ours.eval_bpp, ours.eval_psnr], [theirs.eval_bpp, theirs.eval_psnr], 1e-3)
    assert ours.integer_codes and ours.beta_min == pytest.approx(theirs.beta_min, rel=1e-5)


def test_mask_head(programs):
    ours, theirs = _both(programs, "mask_head")  # per-class mask logits, BCE on label channel
    assert close(ours.losses, theirs.losses, 1e-3, 1e-5)
    assert sum(ours.losses[-5:]) < 0.85 * sum(ours.losses[:5])
    assert ours.logits_shape == theirs.logits_shape == (6, 3, 16, 16)
    assert ours.mask_iou == pytest.approx(theirs.mask_iou, abs=1e-6) and ours.mask_iou > 0.5
    assert ours.paste_iou == pytest.approx(theirs.paste_iou, abs=1e-6)
    assert ours.empty == theirs.empty == [0.0, True]  # no proposals: grid_sample of N = 0


def test_deep_image_prior(programs):
    ours, theirs = _both(programs, "deep_image_prior")  # reflection pads, CBAM, noise reg
    assert ours.pad_sample == theirs.pad_sample == [8.0, 7.0, 6.0, 7.0, 8.0, 7.0, 6.0]
    assert close(ours.losses, theirs.losses, 1e-3, 1e-6) and ours.losses[-1] < 0.3 * ours.losses[0]
    for name in ("psnr_noisy", "psnr_gt", "psnr_avg"):
        assert close(getattr(ours, name), getattr(theirs, name), 1e-3), name
    assert max(ours.psnr_gt) > ours.noisy_psnr + 3  # the prior denoises before it overfits
    # float32 rounding grows ~100x over the 60 steps (float64 runs agree to 1e-14)
    assert close(ours.eval_stats, theirs.eval_stats, 3e-3, 1e-6)


def test_monodepth_stereo(programs):
    ours, theirs = _both(programs, "monodepth_stereo")  # SSIM by pools, warp by grid_sample
    assert ours.ssim_self == theirs.ssim_self == 0.0  # SSIM loss of an image with itself
    assert close(ours.losses, theirs.losses, 1e-3, 1e-6) and ours.losses[-1] < 0.7 * ours.losses[0]
    assert close(ours.photo_losses, theirs.photo_losses, 1e-3, 1e-6)
    assert close(ours.disp_means, theirs.disp_means, 1e-3, 1e-5)
    assert ours.warped_photo == pytest.approx(theirs.warped_photo, rel=1e-3)
    assert ours.warped_photo < 0.5 * ours.identity_photo  # the warp explains the right view
    assert ours.disp_error < 0.5 * ours.zero_error
