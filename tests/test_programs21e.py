"""The twenty-first round's course and book programs (Godoy's Step-by-Step, Zero to Mastery's
modular engine, deeplearning.ai's GANs, Aladdin Persson's from-scratch series), run with
``torch`` bound to minigrad and with PyTorch itself and compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_godoy_stepbystep(programs):
    ours, theirs = _both(programs, "godoy_stepbystep")  # LambdaLR range test, hooks, checkpoint
    assert ours.lr_track == theirs.lr_track and ours.lr_track[0] == 0.05
    assert close(ours.range_losses, theirs.range_losses, 1e-5, 1e-6)
    assert ours.restored_bias == pytest.approx(theirs.restored_bias, rel=1e-6)
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.val_losses, theirs.val_losses, 1e-5, 1e-6)
    assert ours.losses[-1] < 0.5 * ours.losses[0]
    assert ours.resumed_epochs == theirs.resumed_epochs == 6
    assert close(ours.resumed_losses, theirs.resumed_losses, 1e-5, 1e-6)
    assert ours.hooked_shapes == theirs.hooked_shapes == {"hidden": (32, 8), "activation": (32, 8)}
    assert ours.dead_fraction == theirs.dead_fraction and ours.handles_left == 0
    assert close(ours.pred_head, theirs.pred_head, 1e-5, 1e-6)


def test_ztm_engine(programs):
    ours, theirs = _both(programs, "ztm_engine")  # engine.py steps, inference_mode, summary
    assert ours.layer_rows == theirs.layer_rows and ours.trainable_params == 789
    for key in ("train_loss", "test_loss"):
        assert close(ours.model_0_results[key], theirs.model_0_results[key], 1e-5, 1e-6), key
    for key in ("train_acc", "test_acc"):
        assert ours.model_0_results[key] == theirs.model_0_results[key], key
    assert ours.saved_name == "tinyvgg.pth" and ours.same_predictions is True
    assert ours.loaded_accuracy == theirs.loaded_accuracy and ours.inference_flag is False
