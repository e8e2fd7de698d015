"""Document ids kept compactly: one array of UTF-8 bytes and one of offsets.

A Python list of 10 million id strings takes about 700 MB (a str object and a list slot each); as
:class:`Ids` the same ids take their UTF-8 length plus 8 bytes each. Indexing gives back a
``str``; slicing and :meth:`take` give ``Ids``; iteration decodes one id at a time.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import numpy as np


def _encode(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


class Ids(Sequence[str]):
    __slots__ = ("data", "offsets")

    def __init__(self, data: np.ndarray | None = None, offsets: np.ndarray | None = None):
        self.data = np.empty(0, dtype=np.uint8) if data is None else data
        self.offsets = np.zeros(1, dtype=np.int64) if offsets is None else offsets

    @classmethod
    def of(cls, strings: Iterable[str]) -> "Ids":
        if isinstance(strings, Ids):
            return strings
        raw = [_encode(s) for s in strings]
        offsets = np.zeros(len(raw) + 1, dtype=np.int64)
        if raw:
            np.cumsum(np.fromiter((len(b) for b in raw), dtype=np.int64, count=len(raw)), out=offsets[1:])
        return cls(np.frombuffer(b"".join(raw), dtype=np.uint8).copy(), offsets)

    @classmethod
    def concat(cls, parts: Sequence["Ids"]) -> "Ids":
        parts = [p if isinstance(p, Ids) else Ids.of(p) for p in parts]
        if len(parts) == 1:
            return parts[0]
        sizes = np.array([len(p.data) for p in parts], dtype=np.int64)
        base = np.concatenate([[0], np.cumsum(sizes)])
        offsets = np.concatenate([np.zeros(1, dtype=np.int64)] + [p.offsets[1:] + b for p, b in zip(parts, base[:-1])])
        data = np.concatenate([p.data for p in parts]) if parts else np.empty(0, dtype=np.uint8)
        return cls(data, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.take(np.arange(len(self))[i])
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.data[self.offsets[i]:self.offsets[i + 1]].tobytes().decode("utf-8", "surrogatepass")

    def __iter__(self) -> Iterator[str]:
        data, off = self.data.tobytes(), self.offsets.tolist()
        for a, b in zip(off, off[1:]):
            yield data[a:b].decode("utf-8", "surrogatepass")

    def take(self, rows) -> "Ids":
        """The ids at ``rows`` (an integer array), in that order."""
        from curadebt.core.ragged import gather

        rows = np.asarray(rows, dtype=np.int64)
        starts = self.offsets[rows]
        lengths = self.offsets[rows + 1] - starts
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return Ids(gather(self.data, starts, lengths), offsets)

    def tolist(self) -> list[str]:
        return list(self)

    def __eq__(self, other) -> bool:
        if isinstance(other, Ids):
            return np.array_equal(self.offsets, other.offsets) and np.array_equal(self.data, other.data)
        if isinstance(other, (list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        head = ", ".join(repr(s) for s in self[:3]) if len(self) else ""
        return f"Ids({len(self)}: {head}{', ...' if len(self) > 3 else ''})"

    def __getstate__(self):
        return (self.data, self.offsets)

    def __setstate__(self, state) -> None:
        self.data, self.offsets = state

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes + self.offsets.nbytes)
