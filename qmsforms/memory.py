"""Telling a process that ran out of memory from a damaged file.

The reader child runs under an address-space limit (`qmsforms.intake.reader`). Reaching it
must refuse the file ``READ_MEMORY`` (the limit may be raised), never ``CORRUPT_FILE`` (which
tells people to save the file again): zlib reports a failed allocation while inflating a sound
member as an error of the data, ``Error -4``.
"""

from __future__ import annotations

import zlib


def out_of_memory(exc: BaseException) -> bool:
    """Whether an error reading a file means the process ran out of memory, not that the file
    is damaged: a `MemoryError`, or zlib's ``Z_MEM_ERROR`` (``Error -4 while decompressing``)."""
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, zlib.error) and str(exc).startswith("Error -4 ")
