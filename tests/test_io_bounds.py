"""Crafted checkpoints: loading refuses bombs and absurd headers before allocating (tracemalloc).

Peak memory is measured while loading each crafted file; the figures are printed with ``-s``.
"""

import io
import json
import os
import stat
import tracemalloc
import zipfile

import numpy as np
import pytest

import minigrad
from minigrad.io import load, save

MiB = 1 << 20


def _index(root):
    return json.dumps({"format": "minigrad", "version": 2, "root": root})


def _tensor(shape, dtype="float32"):
    return {"$tensor": {"array": 0, "dtype": dtype, "shape": shape, "requires_grad": False,
                        "device": "cpu"}}  # fmt: skip


def _npy_header(shape, dtype="<f4") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    )
    return buffer.getvalue()


def _peak_while_loading(path, match):
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError, match=match):
            load(path, weights_only=False)  # (an $ndarray needs NumPy's globals allowed)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_deflate_bomb_is_not_inflated(tmp_path):
    """128 MiB of zeros, deflated into a small file, behind an index that declares 2 floats."""
    path = tmp_path / "bomb.mg"
    n = 32 * MiB  # float32 elements: 128 MiB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("minigrad.json", _index(_tensor([2])))
        with zf.open("arrays/0.npy", "w") as out:
            out.write(_npy_header([n]))
            zero = bytes(MiB)
            for _ in range(128):
                out.write(zero)
    size = os.path.getsize(path)
    assert size < 600_000
    peak = _peak_while_loading(path, r"arrays/0\.npy declares 134217856 bytes, more than")
    print(
        f"\ndeflate bomb: file {size / 1e3:.0f} kB, would inflate to 128 MiB, peak {peak / 1e3:.0f} kB"
    )
    assert peak < 2 * MiB


def test_an_index_declaring_more_than_the_file_holds_is_refused(tmp_path):
    path = tmp_path / "liar.mg"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("minigrad.json", _index(_tensor([2**31])))  # 8 GiB of float32
        zf.writestr("arrays/0.npy", _npy_header([2**31]) + bytes(16))
    peak = _peak_while_loading(path, r"index declares 8589934592 bytes for array 0, but .* holds")
    print(f"\nindex declaring 8 GiB in {os.path.getsize(path)} bytes: peak {peak / 1e3:.0f} kB")
    assert peak < MiB


def test_an_npy_header_claiming_8_gib_is_refused_before_allocating(tmp_path):
    # version 1 files name arrays without declaring their size; the member must hold them
    path = tmp_path / "npy.mg"
    member = _npy_header([2**31]) + bytes(384)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("minigrad.json", json.dumps({"format": "minigrad", "version": 1,
                                                 "root": {"$ndarray": 0}}))  # fmt: skip
        zf.writestr("arrays/0.npy", member)
    peak = _peak_while_loading(path, "header declares 8589934592 data bytes")
    print(f"\n.npy header claiming 8 GiB in a {len(member)}-byte member: peak {peak / 1e3:.0f} kB")
    assert peak < MiB
    # and the same header behind a version 2 index that declares 2 floats
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("minigrad.json", _index(_tensor([2])))
        zf.writestr("arrays/0.npy", _npy_header([2**31]) + bytes(8))
    _peak_while_loading(path, r"array 0 is float32\[2147483648\], but the index says")


def test_a_json_index_bomb_is_not_inflated(tmp_path):
    path = tmp_path / "json.mg"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("minigrad.json", "w") as out:
            out.write(b'{"format": "minigrad", "version": 2, "root": [')
            for _ in range(128):
                out.write(b" " * MiB)
            out.write(b"]}")
    peak = _peak_while_loading(path, r"index minigrad\.json is corrupted .*more than")
    print(
        f"\nJSON index bomb ({os.path.getsize(path) / 1e3:.0f} kB -> 128 MiB): peak {peak / 1e3:.0f} kB"
    )
    assert peak < 2 * MiB


def test_loading_allocates_no_more_than_the_index_declares(tmp_path):
    path = tmp_path / "big.mg"
    save({"w": minigrad.zeros(4 * MiB), "b": minigrad.ones(10)}, path)  # 16 MiB of float32
    tracemalloc.start()
    try:
        out = load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"\nloading 16 MiB of tensors: peak {peak / MiB:.2f} MiB")
    assert out["w"].shape == (4 * MiB,) and peak < 16 * MiB + MiB


def test_duplicate_members_are_refused(tmp_path):
    path = tmp_path / "dup.mg"
    save({"w": minigrad.ones(2)}, path)
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("arrays/0.npy", b"evil")
    with pytest.raises(RuntimeError, match=r"two members named 'arrays/0\.npy'"):
        load(path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saving_over_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "private.mg"
    save({"w": minigrad.ones(2)}, path)
    os.chmod(path, 0o600)
    save({"w": minigrad.zeros(2)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load(path)["w"].tolist() == [0.0, 0.0]
    minigrad.save({"w": minigrad.ones(1)}, tmp_path / "w.safetensors")
    os.chmod(tmp_path / "w.safetensors", 0o640)
    minigrad.save({"w": minigrad.ones(1)}, tmp_path / "w.safetensors")
    assert stat.S_IMODE(os.stat(tmp_path / "w.safetensors").st_mode) == 0o640
    link = tmp_path / "link.mg"
    link.symlink_to(path)
    save({"w": minigrad.ones(3)}, link)  # written through the link, as open() would
    assert link.is_symlink() and load(path)["w"].shape == (3,)
