"""Fixes found by the twenty-first round's programs (tests/test_programs21b.py), each checked
against PyTorch: optimizer param groups that carry their own ``param_names`` list (timm's
``param_groups_layer_decay`` builds them so), and optimizer state holding names of its own
beside the optimizer's, and param groups with keys of their own (timm's ``Lookahead`` keeps
``lookahead_slow_buff`` in its base optimizer's state and ``lookahead_k`` in its groups, and its
checkpoints must load)."""

import pytest

import minigrad

torch = pytest.importorskip("torch")


def _groups(lib, named=(True, True)):
    w, b = lib.ones(2, 2, requires_grad=True), lib.zeros(2, requires_grad=True)
    groups = [{"params": [w], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}]
    for group, name, has in zip(groups, ("w", "b"), named):
        if has:
            group["param_names"] = [name]
    return groups


@pytest.mark.parametrize("lib", [minigrad, torch], ids=["minigrad", "torch"])
def test_groups_given_with_a_param_names_list_are_named_groups(lib):
    opt = lib.optim.AdamW(_groups(lib), lr=0.1)
    assert [g["param_names"] for g in opt.param_groups] == [["w"], ["b"]]
    assert [g["param_names"] for g in opt.state_dict()["param_groups"]] == [["w"], ["b"]]


@pytest.mark.parametrize("named", [(True, False), (False, True)])
def test_named_and_unnamed_groups_do_not_mix(named):
    with pytest.raises(ValueError) as theirs:
        torch.optim.SGD(_groups(torch, named), lr=0.1)
    with pytest.raises(ValueError) as ours:
        minigrad.optim.SGD(_groups(minigrad, named), lr=0.1)
    assert str(ours.value) == str(theirs.value)


def _with_extra_state(lib):
    p = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
    opt = lib.optim.Adam([p], lr=0.1)
    p.grad = lib.tensor([0.5, -1.0])
    opt.step()
    opt.state[p]["slow_buff"] = p.detach().double() * 2  # a name of the caller's own
    return opt.state_dict()


@pytest.mark.parametrize("lib", [minigrad, torch], ids=["minigrad", "torch"])
def test_state_names_of_the_callers_own_load_and_are_cast(lib):
    saved = _with_extra_state(lib)
    q = lib.nn.Parameter(lib.zeros(2))
    fresh = lib.optim.Adam([q], lr=0.1)
    fresh.load_state_dict(saved)
    state = fresh.state[q]
    assert sorted(state) == ["exp_avg", "exp_avg_sq", "slow_buff", "step"]
    assert state["slow_buff"].dtype == lib.float32  # cast to the parameter's dtype
    assert state["slow_buff"].tolist() == pytest.approx([1.8, 4.2])


def test_a_state_of_another_optimizer_is_still_refused():
    saved = _with_extra_state(minigrad)
    with pytest.raises(ValueError, match="different optimizer than this Adamax"):
        opt = minigrad.optim.Adamax([minigrad.nn.Parameter(minigrad.zeros(2))])
        for key in ("amsgrad", "decoupled_weight_decay"):
            del saved["param_groups"][0][key]
        opt.load_state_dict(saved)  # exp_avg_sq is Adam's, not Adamax's


def _saved_adamw(lib, **extra):
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.AdamW([p], lr=0.1)
    p.grad = lib.ones(2)
    opt.step()
    saved = opt.state_dict()
    saved["param_groups"][0].update(extra)
    return saved


@pytest.mark.parametrize("lib", [minigrad, torch], ids=["minigrad", "torch"])
def test_group_keys_of_the_callers_own_load_on_either_side(lib):
    fresh = lib.optim.AdamW([lib.nn.Parameter(lib.ones(2))], lr=0.1)
    fresh.load_state_dict(_saved_adamw(lib, lookahead_k=6, lookahead_alpha=0.5))
    assert fresh.param_groups[0]["lookahead_k"] == 6  # a wrapper's key, saved, comes back
    scaled = lib.optim.AdamW([{"params": [lib.nn.Parameter(lib.ones(2))], "lr_scale": 0.5}])
    scaled.load_state_dict(_saved_adamw(lib))
    assert "lr_scale" not in scaled.param_groups[0]  # the saved group replaces this one


def test_a_group_of_another_optimizer_is_still_refused():
    with pytest.raises(ValueError, match=r"this Adam: its param group 0 lacks .*'betas'"):
        sgd = minigrad.optim.SGD([minigrad.nn.Parameter(minigrad.ones(2))], lr=0.1)
        minigrad.optim.Adam([minigrad.nn.Parameter(minigrad.ones(2))]).load_state_dict(
            sgd.state_dict()
        )
