"""Utilities built on the core: data loading."""

from . import data
