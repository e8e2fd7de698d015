"""The lab's IO, shared by every experiment (pretrained and from scratch): atomic files, strict JSON
(NaN as null), reproducible PNGs."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from curadebt.core.atomic import write_bytes_atomic


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to ``path`` atomically, with ordinary permissions (the project's writer)."""
    return write_bytes_atomic(path, data.encode("utf-8") if isinstance(data, str) else data)


def clean(x: Any) -> Any:
    """JSON-safe: NaN/inf become None, tuples lists, numpy scalars Python numbers."""
    if hasattr(x, "item") and not isinstance(x, (list, dict, str)):
        try:
            x = x.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    return x


def write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write(path, json.dumps(clean(obj), indent=1, ensure_ascii=False, sort_keys=False) + "\n")


def save_figure(fig, path: str | Path) -> Path:
    """Save a matplotlib figure atomically (PNG, fixed metadata so the same data gives the same bytes)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None}, bbox_inches="tight")
    return atomic_write(path, buf.getvalue())
