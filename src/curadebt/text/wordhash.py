"""Word tokens as numbers: the default word tokenizer and xxh3-64 token hashes for a whole batch of
texts at once, in numpy, without a Python object per token.

:func:`word_spans` finds exactly the tokens of :func:`curadebt.text.tokenize.word_tokenize`
(``\\w+(?:['’\\-]\\w+)*``): a character belongs to a token when it is a word character (``\\w`` as
Python's ``re`` defines it, read from a table built with ``re`` itself), or when it is one of
``' ’ -`` with a word character on both sides; tokens are the maximal runs of such characters. (The
regex takes a joiner only between two word characters, and its ``\\w+`` runs are maximal, so the
runs are the same; tests/test_wordhash.py checks it on real and adversarial text.)

:func:`xxh3_64` computes XXH3-64 (seed 0, the default secret; the same value as
``xxhash.xxh3_64_intdigest``) of many byte strings held in one buffer, vectorised over the strings
for lengths up to 128 bytes (every word in practice); longer ones are hashed one by one.

:func:`word_token_hashes` combines the two: ``(hashes, offsets)`` equal to
``curadebt.audit.minhash.hash_tokens([word_tokenize(t) for t in texts])``.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import xxhash

_SEP = "\n"  # between texts: not a word character, not a joiner, so no token crosses it

# XXH3 default secret (kSecret), first 128 bytes: all that inputs of up to 128 bytes read.
_SECRET = bytes([
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
])


def _s64(off: int) -> np.uint64:
    return np.uint64(int.from_bytes(_SECRET[off:off + 8], "little"))


def _s32(off: int) -> int:
    return int.from_bytes(_SECRET[off:off + 4], "little")


_P64_1 = np.uint64(0x9E3779B185EBCA87)
_P64_2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P64_3 = np.uint64(0x165667B19E3779F9)
_PMX1 = np.uint64(0x165667919E3779F9)
_PMX2 = np.uint64(0x9FB21C651E98DF25)
_LO32 = np.uint64(0xFFFFFFFF)
_U = np.uint64

# ---------------------------------------------------------------------------------------------
# tokens
# ---------------------------------------------------------------------------------------------

_WORD_TABLE = np.zeros(0x110000, dtype=bool)   # table[cp]: chr(cp) matches \w (filled lazily)
_KNOWN = np.zeros(0x110000, dtype=bool)         # which entries are filled
_WORD = re.compile(r"\w")


def word_table(cps: np.ndarray | None = None) -> np.ndarray:
    """``table[cp]`` is True when ``chr(cp)`` matches ``\\w`` in Python's ``re``. The Basic
    Multilingual Plane is filled on first use (~30 ms); other code points when they first appear
    in ``cps``."""
    if not _KNOWN[0]:
        bmp = "".join(map(chr, range(0x10000)))
        for m in re.finditer(r"\w+", bmp):
            _WORD_TABLE[m.start():m.end()] = True
        _KNOWN[:0x10000] = True
    if cps is not None and cps.dtype != np.uint8:
        astral = cps[cps >= 0x10000]
        if len(astral):
            new = np.unique(astral)
            new = new[~_KNOWN[new]]
            for c in new.tolist():
                _WORD_TABLE[c] = _WORD.match(chr(c)) is not None
            _KNOWN[new] = True
    return _WORD_TABLE


def _code_points(joined: str) -> tuple[np.ndarray, tuple | None, bytes]:
    """(code points, the non-ASCII characters' positions and cumulative extra UTF-8 bytes, or None
    when ASCII, the UTF-8 bytes)."""
    if joined.isascii():
        data = joined.encode("ascii")
        return np.frombuffer(data, dtype=np.uint8), None, data
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    wide = np.flatnonzero(cp >= 0x80)  # few in most text: byte offsets are computed from these only
    c = cp[wide]
    extra = np.zeros(len(wide) + 1, dtype=np.int64)
    np.cumsum(1 + (c >= 0x800).astype(np.int64) + (c >= 0x10000), out=extra[1:])
    return cp, (wide, extra), joined.encode("utf-8", "surrogatepass")


def _byte_offsets(chars: np.ndarray, wide_extra: tuple) -> np.ndarray:
    """UTF-8 byte offset of character positions: the position plus the extra bytes of the wide
    (non-ASCII) characters before it."""
    wide, extra = wide_extra
    return chars + extra[np.searchsorted(wide, chars, side="left")]


def word_spans(texts: Sequence[str]) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """Tokens of every text, as UTF-8 byte spans into one buffer.

    Returns ``(data, starts, lengths, offsets)``: ``data`` the UTF-8 bytes of the texts joined by
    newlines, ``starts``/``lengths`` (int64) the byte span of every token in order, ``offsets``
    (int64, ``len(texts) + 1``) where each text's tokens begin. ``data[s:s + l].decode()`` is the
    token ``word_tokenize`` returns (lone surrogates round-trip with ``surrogatepass``).
    """
    n = len(texts)
    joined = _SEP.join(texts)
    cp, byte_pos, data = _code_points(joined)
    w = word_table(cp)[cp]
    mask = w.copy()
    if len(cp) > 2:
        j = (cp == 39) | (cp == 45) | (cp == 0x2019)
        mask[1:-1] |= j[1:-1] & w[:-2] & w[2:]
    edge = np.diff(mask.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    c_start = np.flatnonzero(edge == 1)
    c_end = np.flatnonzero(edge == -1)
    # which text each token is in: texts start at cumulative (length + 1) character positions
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    text_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens + 1, out=text_start[1:])
    offsets = np.searchsorted(c_start, text_start[:n + 1], side="left").astype(np.int64)
    offsets[-1] = len(c_start)
    if byte_pos is None:
        return data, c_start.astype(np.int64), (c_end - c_start).astype(np.int64), offsets
    b_start = _byte_offsets(c_start, byte_pos)
    return data, b_start, _byte_offsets(c_end, byte_pos) - b_start, offsets


# ---------------------------------------------------------------------------------------------
# XXH3-64, vectorised
# ---------------------------------------------------------------------------------------------

def _mul128_fold64(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a * b as 128 bits) low 64 XOR high 64, with 32-bit limbs (numpy has no 128-bit integers)."""
    a0, a1 = a & _LO32, a >> _U(32)
    b0, b1 = b & _LO32, b >> _U(32)
    lo_lo = a0 * b0
    hi_lo = a1 * b0
    lo_hi = a0 * b1
    hi_hi = a1 * b1
    cross = (lo_lo >> _U(32)) + (hi_lo & _LO32) + lo_hi
    upper = (hi_lo >> _U(32)) + (cross >> _U(32)) + hi_hi
    lower = (cross << _U(32)) | (lo_lo & _LO32)
    return lower ^ upper


def _xxh3_avalanche(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U(37))
    h = h * _PMX1
    return h ^ (h >> _U(32))


def _xxh64_avalanche(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U(33))
    h = h * _P64_2
    h = h ^ (h >> _U(29))
    h = h * _P64_3
    return h ^ (h >> _U(32))


def _rotl(h: np.ndarray, r: int) -> np.ndarray:
    return (h << _U(r)) | (h >> _U(64 - r))


def _views(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8, and overlapping little-endian uint32 / uint64 views: ``v64[p]`` reads 8 bytes at p."""
    buf = np.frombuffer(data + bytes(16), dtype=np.uint8)
    v32 = np.ndarray(shape=(len(buf) - 3,), dtype="<u4", buffer=buf, strides=(1,))
    v64 = np.ndarray(shape=(len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))
    return buf, v32, v64


def _mix16(v64, p: np.ndarray, sec: int) -> np.ndarray:
    return _mul128_fold64(v64[p] ^ _s64(sec), v64[p + 8] ^ _s64(sec + 8))


def xxh3_64(data: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """XXH3-64 (seed 0) of ``data[s:s + l]`` for every span, as uint64 (``xxhash.xxh3_64_intdigest``)."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    out = np.empty(len(starts), dtype=np.uint64)
    if len(starts) == 0:
        return out
    buf, v32, v64 = _views(data)
    with np.errstate(over="ignore"):
        sel = np.flatnonzero(lengths == 0)
        if len(sel):
            out[sel] = _xxh64_avalanche(np.full(len(sel), _s64(56) ^ _s64(64), dtype=np.uint64))
        sel = np.flatnonzero((lengths >= 1) & (lengths <= 3))
        if len(sel):
            s, ln = starts[sel], lengths[sel]
            c1 = buf[s].astype(np.uint64)
            c2 = buf[s + (ln >> 1)].astype(np.uint64)
            c3 = buf[s + ln - 1].astype(np.uint64)
            combined = (c1 << _U(16)) | (c2 << _U(24)) | c3 | (ln.astype(np.uint64) << _U(8))
            out[sel] = _xxh64_avalanche(combined ^ _U(_s32(0) ^ _s32(4)))
        sel = np.flatnonzero((lengths >= 4) & (lengths <= 8))
        if len(sel):
            s, ln = starts[sel], lengths[sel]
            in1 = v32[s].astype(np.uint64)
            in2 = v32[s + ln - 4].astype(np.uint64)
            h = (in2 + (in1 << _U(32))) ^ (_s64(8) ^ _s64(16))
            h = h ^ _rotl(h, 49) ^ _rotl(h, 24)
            h = h * _PMX2
            h = h ^ ((h >> _U(35)) + ln.astype(np.uint64))
            h = h * _PMX2
            out[sel] = h ^ (h >> _U(28))
        sel = np.flatnonzero((lengths >= 9) & (lengths <= 16))
        if len(sel):
            s, ln = starts[sel], lengths[sel]
            lo = v64[s] ^ (_s64(24) ^ _s64(32))
            hi = v64[s + ln - 8] ^ (_s64(40) ^ _s64(48))
            acc = ln.astype(np.uint64) + lo.byteswap() + hi + _mul128_fold64(lo, hi)
            out[sel] = _xxh3_avalanche(acc)
        sel = np.flatnonzero((lengths >= 17) & (lengths <= 128))
        if len(sel):
            s, ln = starts[sel], lengths[sel]
            end = s + ln
            acc = ln.astype(np.uint64) * _P64_1
            for lo_bound, k in ((96, 48), (64, 32), (32, 16)):  # the longer spans mix more 16-byte pairs
                m = np.flatnonzero(ln > lo_bound)
                if len(m):
                    acc[m] += _mix16(v64, s[m] + k, 2 * k) + _mix16(v64, end[m] - k - 16, 2 * k + 16)
            acc += _mix16(v64, s, 0) + _mix16(v64, end - 16, 16)
            out[sel] = _xxh3_avalanche(acc)
        sel = np.flatnonzero(lengths > 128)
        for i in sel.tolist():  # rare for words: one at a time
            s, ln = int(starts[i]), int(lengths[i])
            out[i] = xxhash.xxh3_64_intdigest(data[s:s + ln])
    return out


def word_token_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(hashes uint64, offsets int64[len(texts) + 1])``: xxh3-64 of every word token's UTF-8 bytes."""
    data, starts, lengths, offsets = word_spans(texts)
    return xxh3_64(data, starts, lengths), offsets


__all__ = ["word_table", "word_spans", "xxh3_64", "word_token_hashes"]
