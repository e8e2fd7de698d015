"""Word tokens as numbers: the default word tokenizer and xxh3-64 token hashes for a whole batch of
texts at once, without a Python object per token (numpy around two compiled loops, numba).

:func:`word_spans` finds exactly the tokens of :func:`curadebt.text.tokenize.word_tokenize`
(``\\w+(?:['’\\-]\\w+)*``): a character belongs to a token when it is a word character (``\\w`` as
Python's ``re`` defines it, read from a table built with ``re`` itself), or when it is one of
``' ’ -`` with a word character on both sides; tokens are the maximal runs of such characters. (The
regex takes a joiner only between two word characters, and its ``\\w+`` runs are maximal, so the
runs are the same; tests/text/test_wordhash.py checks it on real and adversarial text.)

:func:`xxh3_64` computes XXH3-64 (seed 0, the default secret; the same value as
``xxhash.xxh3_64_intdigest``) of many byte strings held in one buffer, in one compiled loop for
lengths up to 128 bytes (every word in practice); longer ones are hashed by ``xxhash`` one by one.
Both loops replaced numpy array code of the same logic: at 100 MB, 1.4 -> ~0.5 s for the spans and
0.8 -> ~0.2 s for the hashes (bench/count.py, ``tokenise-vectorised``).

:func:`word_token_hashes` combines the two: ``(hashes, offsets)`` equal to
``curadebt.measures.minhash.hash_tokens([word_tokenize(t) for t in texts])``.
"""
from __future__ import annotations

import re
from typing import NamedTuple, Sequence

import numba
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


@numba.njit(cache=True, nogil=True)
def _token_bounds(cp, table):
    """Character positions where tokens start and end: maximal runs of word characters
    (``table[c]``), where a joiner (' - ’) between two word characters also counts."""
    n = len(cp)
    starts = np.empty(n // 2 + 1, dtype=np.int64)
    ends = np.empty(n // 2 + 1, dtype=np.int64)
    k = 0
    inside = False
    for i in range(n):
        c = cp[i]
        w = table[c]
        if not w and (c == 39 or c == 45 or c == 0x2019) and 0 < i < n - 1:
            w = table[cp[i - 1]] and table[cp[i + 1]]
        if w != inside:
            if w:
                starts[k] = i
            else:
                ends[k] = i
                k += 1
            inside = w
    if inside:
        ends[k] = n
        k += 1
    return starts[:k], ends[:k]


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
    c_start, c_end = _token_bounds(cp, word_table(cp))
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
# XXH3-64, compiled (numba), one loop over the spans
# ---------------------------------------------------------------------------------------------

# the secret's 8-byte little-endian words at every byte offset (only offsets 0..120 are read)
_SEC64 = np.array([int.from_bytes(_SECRET[o:o + 8], "little") for o in range(121)], dtype=np.uint64)
_SEC_1_3 = np.uint64(_s32(0) ^ _s32(4))
_SEC_4_8 = _s64(8) ^ _s64(16)
_SEC_9_16_LO = _s64(24) ^ _s64(32)
_SEC_9_16_HI = _s64(40) ^ _s64(48)
_EMPTY_HASH = _s64(56) ^ _s64(64)


@numba.njit(cache=True, nogil=True, inline="always")
def _mul128_fold64(a, b):
    """(a * b as 128 bits) low 64 XOR high 64, with 32-bit limbs (no 128-bit integers here)."""
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


@numba.njit(cache=True, nogil=True, inline="always")
def _xxh3_avalanche(h):
    h = h ^ (h >> _U(37))
    h = h * _PMX1
    return h ^ (h >> _U(32))


@numba.njit(cache=True, nogil=True, inline="always")
def _xxh64_avalanche(h):
    h = h ^ (h >> _U(33))
    h = h * _P64_2
    h = h ^ (h >> _U(29))
    h = h * _P64_3
    return h ^ (h >> _U(32))


@numba.njit(cache=True, nogil=True, inline="always")
def _rotl(h, r):
    return (h << _U(r)) | (h >> _U(64 - r))


@numba.njit(cache=True, nogil=True, inline="always")
def _bswap64(x):
    x = ((x & _U(0x00FF00FF00FF00FF)) << _U(8)) | ((x >> _U(8)) & _U(0x00FF00FF00FF00FF))
    x = ((x & _U(0x0000FFFF0000FFFF)) << _U(16)) | ((x >> _U(16)) & _U(0x0000FFFF0000FFFF))
    return (x << _U(32)) | (x >> _U(32))


@numba.njit(cache=True, nogil=True, inline="always")
def _mix16(v64, p, sec):
    return _mul128_fold64(v64[p] ^ _SEC64[sec], v64[p + 8] ^ _SEC64[sec + 8])


@numba.njit(cache=True, nogil=True)
def _xxh3_spans(buf, v32, v64, starts, lengths, out):
    """XXH3-64 of every span of up to 128 bytes into ``out``; returns the indices of longer spans."""
    longer = []
    for t in range(len(starts)):
        s, ln = starts[t], lengths[t]
        n = _U(ln)
        if ln == 0:
            out[t] = _xxh64_avalanche(_EMPTY_HASH)
        elif ln <= 3:
            c1, c2, c3 = _U(buf[s]), _U(buf[s + (ln >> 1)]), _U(buf[s + ln - 1])
            combined = (c1 << _U(16)) | (c2 << _U(24)) | c3 | (n << _U(8))
            out[t] = _xxh64_avalanche(combined ^ _SEC_1_3)
        elif ln <= 8:
            h = (_U(v32[s + ln - 4]) + (_U(v32[s]) << _U(32))) ^ _SEC_4_8
            h = h ^ _rotl(h, 49) ^ _rotl(h, 24)
            h = h * _PMX2
            h = h ^ ((h >> _U(35)) + n)
            h = h * _PMX2
            out[t] = h ^ (h >> _U(28))
        elif ln <= 16:
            lo = v64[s] ^ _SEC_9_16_LO
            hi = v64[s + ln - 8] ^ _SEC_9_16_HI
            out[t] = _xxh3_avalanche(n + _bswap64(lo) + hi + _mul128_fold64(lo, hi))
        elif ln <= 128:
            end = s + ln
            acc = n * _P64_1
            if ln > 32:
                if ln > 64:
                    if ln > 96:
                        acc += _mix16(v64, s + 48, 96) + _mix16(v64, end - 64, 112)
                    acc += _mix16(v64, s + 32, 64) + _mix16(v64, end - 48, 80)
                acc += _mix16(v64, s + 16, 32) + _mix16(v64, end - 32, 48)
            acc += _mix16(v64, s, 0) + _mix16(v64, end - 16, 16)
            out[t] = _xxh3_avalanche(acc)
        else:
            longer.append(t)
    return longer


def _views(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8, and overlapping little-endian uint32 / uint64 views: ``v64[p]`` reads 8 bytes at p."""
    buf = np.frombuffer(data + bytes(16), dtype=np.uint8)
    v32 = np.ndarray(shape=(len(buf) - 3,), dtype="<u4", buffer=buf, strides=(1,))
    v64 = np.ndarray(shape=(len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))
    return buf, v32, v64


def xxh3_64(data: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """XXH3-64 (seed 0) of ``data[s:s + l]`` for every span, as uint64 (``xxhash.xxh3_64_intdigest``)."""
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    lengths = np.ascontiguousarray(lengths, dtype=np.int64)
    out = np.empty(len(starts), dtype=np.uint64)
    if len(starts) == 0:
        return out
    for i in _xxh3_spans(*_views(data), starts, lengths, out):  # over 128 bytes: rare for words
        s, ln = int(starts[i]), int(lengths[i])
        out[i] = xxhash.xxh3_64_intdigest(data[s:s + ln])
    return out


class WordSpans(NamedTuple):
    """The word tokens of a batch of texts: byte spans into ``data`` (see :func:`word_spans`), where
    each text's tokens begin (``offsets``), and each token's XXH3-64 (``hashes``)."""

    data: bytes
    starts: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray
    hashes: np.ndarray

    def token(self, i: int) -> str:
        s = int(self.starts[i])
        return self.data[s:s + int(self.lengths[i])].decode("utf-8", "surrogatepass")


def word_spans_hashed(texts: Sequence[str]) -> WordSpans:
    """:func:`word_spans` and :func:`xxh3_64` of every token, together."""
    data, starts, lengths, offsets = word_spans(texts)
    return WordSpans(data, starts, lengths, offsets, xxh3_64(data, starts, lengths))


def token_spans_hashed(token_lists: Sequence[Sequence[str]]) -> WordSpans:
    """The :class:`WordSpans` of tokens a tokenizer already produced (one list per text): the tokens'
    UTF-8 bytes joined by single spaces (texts by newlines), their spans and XXH3-64 hashes. Counting
    n-grams on these spans is counting the n-grams of ``" ".join`` of the tokens, as for words."""
    chunks: list[bytes] = []
    lengths: list[int] = []
    doc_starts: list[int] = []  # byte position of each text's chunk
    offsets = [0]
    pos = 0
    for toks in token_lists:
        enc = [t.encode("utf-8", "surrogatepass") for t in toks]
        chunk = b" ".join(enc)
        chunks.append(chunk)
        doc_starts.append(pos)
        lengths.extend(map(len, enc))
        offsets.append(len(lengths))
        pos += len(chunk) + 1  # the newline after it
    data = b"\n".join(chunks)
    ln = np.asarray(lengths, dtype=np.int64)
    offs = np.asarray(offsets, dtype=np.int64)
    # a token starts after the previous tokens of its text and one space each, from its text's start
    within = np.zeros(len(ln), dtype=np.int64)
    if len(ln):
        np.cumsum(ln[:-1] + 1, out=within[1:])
        first = np.repeat(offs[:-1], np.diff(offs))  # index of each token's text's first token
        within -= within[first]
    starts = np.repeat(np.asarray(doc_starts, dtype=np.int64), np.diff(offs)) + within
    return WordSpans(data, starts, ln, offs, xxh3_64(data, starts, ln))


def word_token_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(hashes uint64, offsets int64[len(texts) + 1])``: xxh3-64 of every word token's UTF-8 bytes."""
    words = word_spans_hashed(texts)
    return words.hashes, words.offsets


__all__ = ["WordSpans", "word_table", "word_spans", "word_spans_hashed", "xxh3_64", "word_token_hashes"]
