"""Text normalisation used for exact-duplicate keys."""
from __future__ import annotations

import re
import unicodedata

import xxhash

_WS = re.compile(r"\s+")


def normalize_for_exact(text: str) -> str:
    """NFC, strip, collapse whitespace runs to one space; case is kept."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text).strip())


def exact_key(text: str) -> int:
    """64-bit content key of the normalised text (xxh3; collision odds ~1e-19 per pair)."""
    return xxhash.xxh3_64_intdigest(normalize_for_exact(text).encode("utf-8", "surrogatepass"))
