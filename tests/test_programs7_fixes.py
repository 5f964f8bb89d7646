"""Focused tests for what the seventh round of PyTorch programs (``tests/test_programs7.py``)
and a new user's first session found broken, each checked against PyTorch where it has the
feature."""

import os

import pytest

from minigrad.cli import main

torch = pytest.importorskip("torch")


def test_cli_output_into_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    # `minigrad info --json | head -2`: the reader left before the output was written; the
    # command stops with the shell's SIGPIPE code and no traceback, as `cat` would
    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "w") as stdout:
        monkeypatch.setattr("sys.stdout", stdout)
        assert main(["info", "--json"]) == 141
        monkeypatch.undo()
    assert capsys.readouterr().err == ""
