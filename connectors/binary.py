"""Big-endian binary fields, read and written, shared by the JT/T 808 and 809 codecs."""

import struct
from collections.abc import Callable
from typing import Literal

ReaderReason = Literal["truncated", "bad_length"]
# the codec's own decode error class, called with a reason code and a detail
DecodeError = Callable[[ReaderReason, str], Exception]


class Reader:
    """Fields read in order off one body. Running short raises `error("truncated", …)`,
    bytes left over at `expect_end` raise `error("bad_length", …)`."""

    __slots__ = ("_data", "_error", "offset")

    def __init__(self, data: bytes, error: DecodeError, offset: int = 0) -> None:
        self._data = data
        self._error = error
        self.offset = offset

    @property
    def remaining(self) -> int:
        return len(self._data) - self.offset

    def take(self, size: int) -> bytes:
        if size > self.remaining:
            detail = f"need {size} bytes at offset {self.offset}, {self.remaining} left"
            raise self._error("truncated", detail)
        self.offset += size
        return self._data[self.offset - size : self.offset]

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def rest(self) -> bytes:
        return self.take(self.remaining)

    def expect_end(self) -> None:
        if self.remaining:
            raise self._error("bad_length", f"{self.remaining} unexpected trailing bytes")


def pack(layout: str, *values: int) -> bytes:
    """`struct.pack`, raising ValueError for values that do not fit the layout."""
    try:
        return struct.pack(layout, *values)
    except struct.error as error:
        raise ValueError(f"{values} do not fit {layout!r}: {error}") from error
