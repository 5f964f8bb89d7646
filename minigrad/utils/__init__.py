"""Utilities built on the core: data loading, hook handles."""

from . import data, hooks
