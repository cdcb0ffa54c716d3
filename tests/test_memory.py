"""`qmsforms.memory`: running out of memory told from a damaged file."""

from __future__ import annotations

import zlib

import pytest

from qmsforms.memory import out_of_memory


def test_a_damaged_stream_is_damage_and_a_failed_allocation_is_not() -> None:
    with pytest.raises(zlib.error) as damaged:
        zlib.decompressobj(-15).decompress(b"\xff" * 64)
    assert not out_of_memory(damaged.value)  # Error -3: invalid data
    assert out_of_memory(zlib.error("Error -4 while decompressing data"))  # Z_MEM_ERROR
    assert out_of_memory(MemoryError())
    assert not out_of_memory(ValueError("Error -4 while decompressing data"))
