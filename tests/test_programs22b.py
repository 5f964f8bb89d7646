"""A twenty-second round of PyTorch programs (b): reinforcement learning and world models on
tiny hand-written environments (Dreamer's RSSM, MuZero, AlphaZero, IMPALA's V-trace, QMIX,
MADDPG, GAIL, DAgger, HER, R2D2, discrete SAC, Rainbow's noisy nets), run with ``torch``
bound to minigrad and with PyTorch itself and compared value by value, each with a check that
the agent really learned.

Float32 training is compared at 1e-5 relative with 1e-6 absolute: the runs drift by a few
ulps per step (measured: at most 6.6e-6 relative on values above 1e-2, IMPALA's summed
losses; values that cancel to below 1e-2, as GAIL's policy loss and discrete SAC's temperature
loss, differ by at most 1.8e-7 absolute). MuZero and R2D2 run in float64 (their inverse value
transform turns float32 rounding of a softmax expectation into 1e-4 differences) and are
compared at 1e-10."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def _mean(values):
    return sum(values) / len(values)


def test_dreamer_rssm(programs):
    ours, theirs = _both(programs, "dreamer_rssm")  # straight-through latents, KL balancing
    for name in ("world_losses", "kl_values", "recon_losses", "actor_losses", "critic_losses"):
        assert close(getattr(ours, name), getattr(theirs, name), 1e-5, 1e-6), name
    assert ours.state_shapes == theirs.state_shapes == {
        "logits": (6, 4, 4, 4), "stoch": (6, 4, 4, 4), "deter": (6, 4, 16)
    }  # fmt: skip
    assert ours.imagined_shape == theirs.imagined_shape == (6, 24, 32)
    assert ours.straight_through == theirs.straight_through == [[1.0] * 4, True]
    assert (
        ours.latent_repr
        == theirs.latent_repr
        == "Independent(OneHotCategoricalStraightThrough(), 1)"
    )
    assert ours.policy_repr == theirs.policy_repr
    assert _mean(ours.recon_losses[-3:]) < 0.8 * _mean(ours.recon_losses[:3])


def test_muzero_unroll(programs):
    ours, theirs = _both(programs, "muzero_unroll")  # h(x), two-hot support, scaled gradients
    for name in ("losses", "value_losses", "reward_losses", "policy_losses", "priorities"):
        assert close(getattr(ours, name), getattr(theirs, name), 1e-10, 1e-12), name
    for name in ("root_values", "predicted_rewards", "transformed", "two_hot", "hidden_range"):
        assert close(getattr(ours, name), getattr(theirs, name), 1e-10, 1e-12), name
    assert close(ours.roundtrip, [-3.7, -0.4, 0.0, 1.25, 9.0], 1e-6, 1e-9)
    assert ours.two_hot[5:7] == pytest.approx([0.49875, 0.50125])
    assert ours.no_reward == theirs.no_reward
    assert ours.losses[-1] < 0.5 * ours.losses[0]


def test_alphazero_tictactoe(programs):
    ours, theirs = _both(programs, "alphazero_tictactoe")  # PUCT, masked policy, symmetries
    assert ours.final_boards == theirs.final_boards and ours.n_examples == theirs.n_examples
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.policy, theirs.policy, 1e-5, 1e-7)
    assert ours.root_value == pytest.approx(theirs.root_value, rel=1e-5)
    assert close(ours.bn_running, theirs.bn_running, 1e-5, 1e-7)
    assert ours.symmetric_ok == theirs.symmetric_ok == [True, True, True]
    assert ours.masked_cells == theirs.masked_cells  # occupied cells get -inf log-probability
    assert ours.search_probs == theirs.search_probs and ours.search_probs[2] > 0.5
    assert ours.policy[2] == max(ours.policy)  # the net itself prefers the winning move


def test_impala_vtrace(programs):
    ours, theirs = _both(programs, "impala_vtrace")  # clipped importance weights, LambdaLR
    assert close(ours.stats, theirs.stats, 1e-5, 1e-6)
    assert ours.vtrace_gap < 1e-6 and theirs.vtrace_gap < 1e-6  # the paper's sum, in float64
    assert ours.vs_requires_grad is theirs.vs_requires_grad is False
    assert ours.last_lr == theirs.last_lr == 0.0
    assert ours.greedy == theirs.greedy == [2, 2, 2, 2]  # always walk right
    assert close(ours.values_by_cell, theirs.values_by_cell, 1e-5, 1e-6)
    rewards = [s[3] for s in ours.stats]
    assert _mean(rewards[-10:]) > 2 * _mean(rewards[:10])


def test_qmix_mixer(programs):
    ours, theirs = _both(programs, "qmix_mixer")  # hypernetwork weights, masked TD error
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert ours.returns == theirs.returns and ours.shapes == theirs.shapes
    assert close(ours.q_tot, theirs.q_tot, 1e-5) and close(
        ours.mixing_grad, theirs.mixing_grad, 1e-5
    )
    assert ours.q_tot == sorted(ours.q_tot) and min(ours.mixing_grad) >= 0  # monotone mixing
    assert _mean(ours.returns[-8:]) > 1.5 * _mean(ours.returns[:8])


def test_maddpg_gumbel(programs):
    ours, theirs = _both(programs, "maddpg_gumbel")  # gumbel_softmax(hard=True), soft updates
    assert ours.episode_rewards == theirs.episode_rewards
    assert close(ours.critic_losses, theirs.critic_losses, 1e-5, 1e-6)
    assert close(ours.policy_losses, theirs.policy_losses, 1e-5, 1e-6)
    assert close(ours.gumbel_draws, theirs.gumbel_draws, 1e-5)
    assert ours.greedy_words == theirs.greedy_words == [0, 1, 2]  # a word per goal
    assert ours.greedy_guesses == theirs.greedy_guesses
    assert _mean(ours.episode_rewards[-20:]) > 1.8 * _mean(ours.episode_rewards[:20])


def test_gail_discriminator(programs):
    ours, theirs = _both(programs, "gail_discriminator")  # gradient penalty, log D - log(1-D)
    assert close(ours.disc_log, theirs.disc_log, 1e-5, 1e-6)
    assert close(ours.policy_log, theirs.policy_log, 1e-5, 1e-6)
    assert ours.agreement == theirs.agreement
    assert close(ours.policy_probs, theirs.policy_probs, 1e-5, 1e-7)
    assert ours.dist_reprs == theirs.dist_reprs
    assert ours.dist_reprs[0] == "Categorical(logits: torch.Size([2, 4]))"
    assert _mean(ours.agreement[-5:]) > 2 * _mean(ours.agreement[:5])  # imitates the expert


def test_dagger_bc(programs):
    ours, theirs = _both(programs, "dagger_bc")  # ConcatDataset rounds, seeded DataLoader
    assert close(ours.bc_losses, theirs.bc_losses, 1e-5, 1e-6)
    assert close(ours.dagger_losses, theirs.dagger_losses, 1e-5, 1e-6)
    assert close(ours.dagger_errors, theirs.dagger_errors, 1e-5, 1e-7)
    assert close(ours.errors, theirs.errors, 1e-5, 1e-7) and close(ours.stds, theirs.stds, 1e-5)
    assert ours.sizes == theirs.sizes == [300, 450, 600]
    assert ours.dagger_errors[-1] < 0.6 * ours.dagger_errors[0]
    assert ours.dagger_losses == sorted(ours.dagger_losses, reverse=True)


def test_her_bitflip(programs):
    ours, theirs = _both(programs, "her_bitflip")  # future-goal relabelling, Polyak target
    assert close(ours.her_losses, theirs.her_losses, 1e-5, 1e-6)
    assert close(ours.plain_losses, theirs.plain_losses, 1e-5, 1e-6)
    assert ours.her_successes == theirs.her_successes and ours.her_eval == theirs.her_eval
    assert close(ours.q_one_flip, theirs.q_one_flip, 1e-5, 1e-6)
    assert ours.best_flip == theirs.best_flip == 0  # flip the one bit that differs
    assert ours.her_eval > ours.plain_eval


def test_r2d2_burnin(programs):
    ours, theirs = _both(programs, "r2d2_burnin")  # LSTM burn-in, value rescaling, priorities
    assert close(ours.log, theirs.log, 1e-10, 1e-12)
    assert close(ours.priorities, theirs.priorities, 1e-10, 1e-12)
    assert ours.rescale_roundtrip < 1e-9 and close(ours.rescaled, theirs.rescaled, 1e-12)
    assert ours.greedy_success == theirs.greedy_success == 1.0  # it remembers the cue


def test_discrete_sac(programs):
    ours, theirs = _both(programs, "discrete_sac")  # exact expectations, learned temperature
    assert close(ours.log, theirs.log, 1e-5, 1e-6)
    assert ours.returns == theirs.returns
    assert close(ours.q_values, theirs.q_values, 1e-5, 1e-6)
    assert ours.alpha_requires_grad == theirs.alpha_requires_grad == [True, True, (1,)]
    assert ours.policy_repr == theirs.policy_repr == "Categorical(probs: torch.Size([6, 3]))"
    assert ours.entropy == pytest.approx(theirs.entropy, rel=1e-5)
    assert _mean(ours.returns[-8:]) > 0.0 > _mean(ours.returns[:8])  # stops falling off


def test_rainbow_noisy(programs):
    ours, theirs = _both(programs, "rainbow_noisy")  # factorised noise, C51 projection
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert max(ours.mass_errors) < 1e-6  # the projected target distributions sum to one
    assert close(ours.q_table, theirs.q_table, 1e-5, 1e-6)
    assert close(ours.noise_summary, theirs.noise_summary, 1e-5)
    assert close(ours.outer_product, theirs.outer_product, 1e-6)
    assert ours.greedy == theirs.greedy == [1] * 6  # walks to the far reward
    assert _mean(ours.losses[-5:]) < 0.8 * _mean(ours.losses[:5])
