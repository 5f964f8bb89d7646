"""The base of every distribution (``torch.distributions.Distribution``): shapes, argument
and support validation, and the sampling entry points."""

from __future__ import annotations

from ..autograd import grad_mode
from ..ops._size import Size
from ..tensor import Tensor
from . import constraints


class Distribution:
    """A batch of probability distributions of one family.

    ``batch_shape`` indexes independent distributions; ``event_shape`` is the shape of one
    draw (``()`` for scalars, ``(k,)`` for a k-dimensional normal). ``sample(sample_shape)``
    returns tensors of shape ``sample_shape + batch_shape + event_shape``; ``rsample`` does the
    same through a reparameterization, so gradients reach the parameters. With
    ``validate_args`` (on by default, as PyTorch) parameters are checked against
    ``arg_constraints`` and values given to ``log_prob`` against ``support``.
    """

    has_rsample = False
    has_enumerate_support = False
    arg_constraints: dict = {}
    support = None
    _validate_args = __debug__  # PyTorch's class default, which pyro's settings read and set

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument validation on or off for every distribution made afterwards."""
        if value not in (True, False):
            raise ValueError("set_default_validate_args expects a bool")
        Distribution._validate_args = value

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    def _check_parameters(self) -> None:
        for name, constraint in self.arg_constraints.items():
            given = name in self.__dict__ or isinstance(getattr(type(self), name, None), property)
            if constraints.is_dependent(constraint) or not given:
                continue  # a parameter given the other way (probs or logits), not derived yet
            value = getattr(self, name)
            valid = constraint.check(value)
            if not bool(valid.all()):
                raise ValueError(
                    f"Expected parameter {name} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                    f"{constraint!r}, but found invalid values:\n{value}"
                )

    def _validate_sample(self, value) -> None:
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event = len(self._event_shape)
        if event and tuple(value.shape[-event:]) != tuple(self._event_shape):
            raise ValueError(
                f"The right-most size of value must match event_shape: {tuple(value.shape)} vs "
                f"{tuple(self._event_shape)}."
            )
        support = self.support
        if support is None or constraints.is_dependent(support):
            return
        if not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) "
                f"to be within the support ({support!r}) of the distribution {self!r}, but found "
                f"invalid values:\n{value}"
            )

    def _extended_shape(self, sample_shape=()) -> Size:
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=()):
        """A draw of shape ``sample_shape + batch_shape + event_shape``, without gradient."""
        with grad_mode.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        """A reparameterized draw: differentiable in the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sampler (rsample)")

    def expand(self, batch_shape, _instance=None):
        """The distribution broadcast to a larger ``batch_shape`` (a view of the parameters)."""
        raise NotImplementedError(
            f"{type(self).__name__}.expand is not implemented: cannot broadcast it to batch "
            f"shape {tuple(batch_shape)}"
        )

    def _get_checked_instance(self, cls, _instance=None):
        """``_instance``, or a blank instance of this distribution's class for ``cls.expand``
        to fill in (PyTorch's helper, which subclasses' ``expand`` call, as zuko's do); a
        subclass of ``cls`` with its own ``__init__`` must define its own ``expand``."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
                "__init__ method must also define a custom .expand() method."
            )
        return type(self).__new__(type(self)) if _instance is None else _instance

    def _expanded(self, batch_shape, _instance=None, **parameters):
        """The common body of ``expand``: a new instance of this family (or ``_instance``, a
        subclass's) with ``parameters`` set (already broadcast to ``batch_shape``), this
        distribution's event shape and validation setting."""
        new = _instance if _instance is not None else type(self).__new__(type(self))
        for name, value in parameters.items():
            setattr(new, name, value)
        Distribution.__init__(new, Size(batch_shape), self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample_n(self, n: int):
        return self.sample(Size((n,)))

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__}.log_prob")

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}.cdf")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}.icdf")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__}.entropy")

    def perplexity(self):
        return self.entropy().exp()

    def enumerate_support(self, expand=True):
        raise NotImplementedError(f"{type(self).__name__}.enumerate_support")

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__}.mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__}.mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__}.variance")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def __repr__(self) -> str:
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(
            f"{k}: {self.__dict__[k] if self.__dict__[k].numel() == 1 else self.__dict__[k].size()}"
            for k in names
        )
        return f"{type(self).__name__}({args})"


class LocationScale(Distribution):
    """A family of ``loc + scale·X`` for a fixed standard X (Normal, Laplace): the two
    parameters broadcast together, real ``loc``, positive ``scale``; ``loc`` is the mean and
    the mode."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        from .utils import broadcast_all

        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    def expand(self, batch_shape, _instance=None):
        """The same family with ``loc`` and ``scale`` broadcast to ``batch_shape`` (views)."""
        batch_shape = Size(batch_shape)
        return self._expanded(
            batch_shape, _instance, loc=self.loc.expand(batch_shape),
            scale=self.scale.expand(batch_shape),
        )  # fmt: skip

    def _standard_draw(self, sample_shape, draw):
        """``draw(shape, dtype, device)`` of the standard variable, in the batch's shape."""
        return draw(
            self._extended_shape(sample_shape), dtype=self.loc.dtype, device=self.loc.device
        )
