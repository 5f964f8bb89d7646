"""The join context manager (``torch.distributed.algorithms.join``) in this process: its
errors, and its protocol against PyTorch's names. The uneven-input training itself runs on 2
ranks inside tests/test_distributed.py's job (tests/join_checks.py), and in a world of one
there (test_world_of_one_without_a_launcher).
"""

import pytest

import minigrad
from minigrad.distributed.algorithms import Join, Joinable, JoinHook
from minigrad.distributed.algorithms.join import _JoinConfig
from minigrad.nn.parallel import DistributedDataParallel


def test_join_needs_a_joinable_and_a_joinable_needs_its_constructor():
    with pytest.raises(ValueError, match="requires at least one joinable"):
        Join([])

    class Forgot(Joinable):
        def __init__(self):  # does not call Joinable.__init__
            pass

        def join_hook(self, **kwargs):
            return JoinHook()

        join_device = join_process_group = None

    with pytest.raises(AssertionError, match="calls the ``Joinable`` constructor"):
        Join.notify_join_context(Forgot())


def test_outside_a_context_notify_does_nothing_and_ddp_is_a_joinable():
    class Plain(Joinable):
        def __init__(self):
            super().__init__()

        def join_hook(self, **kwargs):
            return JoinHook()

        join_device = join_process_group = None

    plain = Plain()
    assert plain._join_config == _JoinConfig.construct_disabled_join_config()
    assert Join.notify_join_context(plain) is None
    assert issubclass(DistributedDataParallel, Joinable)
    with pytest.raises(TypeError, match="abstract"):
        Joinable()


def test_work_result_holds_the_reduced_tensor_or_names_what_lacks_it():
    from minigrad.distributed import Work

    t = minigrad.ones(1)
    work = Work(lambda timeout=None: None, "all_reduce", outputs=[t])
    assert work.result()[0] is t  # what notify_join_context's caller reads the count from
    with pytest.raises(NotImplementedError, match=r"Work.result\(\) for all_gather"):
        Work(lambda timeout=None: None, "all_gather").result()
