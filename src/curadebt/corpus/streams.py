"""Byte streams of corpus files: compressed files read to their end, bounded universal lines, text decoding.

- ``.gz`` and ``.zst`` files are decompressed as they are read; a truncated or corrupt file raises
  :class:`~curadebt.corpus.records.CorpusError` (``zstandard``'s own stream reader would return a
  frame cut short as if it were whole).
- :func:`iter_lines_bounded` splits at ``\n``, ``\r\n`` or a lone ``\r`` and never holds a line over
  the record limit in memory.
- :func:`decode_text` decodes a text file as UTF-8, else by a documented fallback that never fails.
"""
from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Iterator

from curadebt.corpus.records import CorpusError

# Text that is not valid UTF-8 is decoded with the first of these that works; the document is
# flagged (meta["encoding_fallback"]) and counted. cp1252 covers the usual Windows-made files;
# latin-1 never fails, so nothing is ever lost.
FALLBACK_ENCODINGS = ("cp1252", "latin-1")
BOM = b"\xef\xbb\xbf"
BLOCK = 1 << 20



def decode_text(raw: bytes) -> tuple[str, str | None]:
    """Decode bytes as UTF-8 (a leading byte order mark dropped), else by the documented fallback.
    Returns (text, fallback_used)."""
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    for enc in FALLBACK_ENCODINGS:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"  # unreachable: latin-1 decodes any byte string


class _ZstdReader(io.RawIOBase):
    """A zstd stream read to its end: a frame cut short or corrupt data raises CorpusError
    (``zstandard``'s own stream reader returns the truncated data as if it were all)."""

    def __init__(self, raw, name: str):
        import zstandard

        self._zstd = zstandard
        self._raw, self._name = raw, name
        self._dec = zstandard.ZstdDecompressor().decompressobj()
        self._buf = b""
        self._in_frame = False
        self._eof = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while not self._buf and not self._eof:
            chunk = self._raw.read(BLOCK)
            if not chunk:
                if self._in_frame:
                    raise CorpusError(f"{self._name}: truncated zstd file (the last frame ends early, at compressed "
                                      f"byte {self._raw.tell():,}); re-copy or re-compress it")
                self._eof = True
                return
            try:
                out = []
                while chunk:
                    self._in_frame = True
                    out.append(self._dec.decompress(chunk))
                    if not self._dec.eof:
                        break
                    self._in_frame = False
                    chunk = self._dec.unused_data
                    self._dec = self._zstd.ZstdDecompressor().decompressobj()
                self._buf = b"".join(out)
            except self._zstd.ZstdError as e:
                raise CorpusError(f"{self._name}: corrupt zstd data near compressed byte {self._raw.tell():,}: {e}") from e

    def readinto(self, b) -> int:
        self._fill()
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Range(io.RawIOBase):
    """Bytes ``[start, end)`` of an open file, read as a stream that ends at ``end``."""

    def __init__(self, raw, start: int, end: int | None):
        self._raw = raw
        raw.seek(start)
        self._left = None if end is None else max(0, end - start)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        want = len(b) if self._left is None else min(len(b), self._left)
        data = self._raw.read(want) if want else b""
        n = len(data)
        b[:n] = data
        if self._left is not None:
            self._left -= n
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_binary(path: Path, name: str, start: int = 0, end: int | None = None) -> io.BufferedIOBase:
    """The file's bytes (decompressed for ``.gz``/``.zst``); ``start``/``end``: a byte range of an
    uncompressed file."""
    try:
        raw = open(path, "rb")
    except OSError as e:
        raise CorpusError(f"{name}: cannot read it ({e.strerror or e}); fix its permissions or leave it out") from e
    if start or end is not None:
        return io.BufferedReader(_Range(raw, start, end), buffer_size=BLOCK)
    lower = path.name.lower()
    if lower.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if lower.endswith(".zst"):
        return io.BufferedReader(_ZstdReader(raw, name), buffer_size=BLOCK)
    return raw


def iter_lines_bounded(fh: io.BufferedIOBase, limit: int, at_file_start: bool = True) -> Iterator[tuple[bytes | None, int]]:
    """Yield (line, size) with its line end stripped; lines end at ``\n``, ``\r\n`` or ``\r``, and
    a UTF-8 byte order mark at the start of a file (``at_file_start``) is skipped (counted in the first
    line's size). A line over ``limit`` bytes is yielded as (None, size) without ever being held whole
    in memory."""
    carry = b""
    skipped = -1   # bytes of an over-long line counted so far; -1 when not in one
    extra = 0      # bytes to add to the next line's size (a byte order mark)
    first = at_file_start
    while True:
        chunk = fh.read(BLOCK)
        if first:
            first = False
            if chunk.startswith(BOM):
                chunk, extra = chunk[len(BOM):], len(BOM)
        eof = not chunk
        data = carry + chunk if carry else chunk
        carry = b""
        lines = data.splitlines(keepends=True) if data else []
        if lines and not eof and not lines[-1].endswith(b"\n"):
            carry = lines.pop()  # unfinished (a final '\r' may be the first half of '\r\n')
        for line in lines:
            size = len(line) + extra
            extra = 0
            if skipped >= 0:  # the end of an over-long line
                yield None, skipped + size
                skipped = -1
                continue
            body = line.rstrip(b"\r\n")
            yield (body if len(body) <= limit else None), size
        if len(carry) > limit + 1:  # an over-long line: count its bytes, never hold them
            keep = b"\r" if carry.endswith(b"\r") else b""
            skipped = max(skipped, 0) + len(carry) - len(keep) + extra
            extra = 0
            carry = keep
        if eof:
            if skipped >= 0:
                yield None, skipped + extra
            elif extra:  # a file holding only a byte order mark
                yield b"", extra
            return


