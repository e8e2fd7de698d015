"""Building blocks of curadebt's HTML pages: escaping, number formats, tables, tiles, meters and
inline-SVG figures. Every measure's report section is built from these (see
:mod:`curadebt.measures.registry`), so all corpus-derived text is escaped in one place: anything that
is not :class:`Trusted` is HTML-escaped before output.
"""
from __future__ import annotations

import html
import math
import re
import warnings
from typing import Any, Callable, Iterable, Sequence

from curadebt.report import plots

MAX_ROWS = 50          # rows of any one table


VISIBLE_ROWS = 15      # rows shown before "show more"


MAX_BARS = 15          # bars in any one chart


MAX_PROBE_BARS = 25


MAX_EXAMPLE_IDS = 5


class Trusted(str):
    """Trusted HTML (built here from escaped parts); anything else is escaped before output."""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean(s: str) -> str:
    s = s.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


def esc(value: Any) -> str:
    """Escape anything for HTML text or a quoted attribute."""
    if isinstance(value, Trusted):
        return value
    return html.escape(clean("" if value is None else str(value)), quote=True)


def finite(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


DASH = "\u2014"


def num(x: Any, digits: int = 3) -> str:
    if x is None:
        return DASH
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, dict):  # several thresholds: "top source share 0.5, source entropy 0.7"
        return ", ".join(f"{str(k).replace('_', ' ')} {num(v, digits)}" for k, v in x.items())
    if isinstance(x, int):
        return f"{x:,}"
    v = finite(x)
    if v is None:
        return str(x)
    if v == int(v) and abs(v) >= 1000:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def pct(x: Any) -> str:
    v = finite(x)
    if v is None:
        return DASH if x is None else str(x)
    p = v * 100
    if p != 0 and abs(p) < 0.1:
        return f"{p:.2g}%"
    return f"{p:.1f}%"


def ratio(x: Any) -> str:
    v = finite(x)
    return DASH if v is None else f"{v:.2f}\u00d7"


def nbytes(x: Any) -> str:
    v = finite(x)
    if v is None:
        return DASH
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(v) < 1024 or unit == "TB":
            return f"{v:,.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    return DASH  # unreachable


def frac_label(key: Any) -> str:
    """Window key "0.01" -> "1%"."""
    v = finite(key)
    return esc(key) if v is None else f"{v * 100:g}%"


def frac_sort(keys: Iterable[Any]) -> list:
    return sorted(keys, key=lambda k: (finite(k) is None, finite(k) or 0.0, str(k)))


def as_dict(x: Any) -> dict:
    return x if isinstance(x, dict) else {}


def as_list(x: Any) -> list:
    return x if isinstance(x, list) else []


def first(d: dict, *keys: str) -> Any:
    for k in keys:
        if d.get(k) is not None:
            return d[k]
    return None


class Cell:
    __slots__ = ("html", "num")

    def __init__(self, html_: str, num: bool = False):
        self.html, self.num = html_, num


def cell(x: Any, fmt: Callable[[Any], str] = num) -> Cell:
    return Cell(esc(fmt(x)), num=True)


def code(x: Any) -> Trusted:
    return Trusted(f"<code>{esc(x)}</code>")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], total: int | None = None, cls: str = "",
           visible: int = VISIBLE_ROWS) -> str:
    """A table of escaped cells (``Cell``/``Trusted`` are trusted). Rows beyond ``visible`` go into a
    collapsed continuation table; ``total`` > rows adds a "showing n of total" note."""
    rows = list(rows)
    if not rows:
        return '<p class="note">none</p>'
    numeric = [any(isinstance(r[i], Cell) and r[i].num for r in rows if i < len(r)) for i in range(len(headers))]
    head = "".join(f'<th class="num">{esc(h)}</th>' if numeric[i] else f"<th>{esc(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for r in rows:
        tds = []
        for c in r:
            if isinstance(c, Cell):
                tds.append(f'<td class="num">{c.html}</td>' if c.num else f"<td>{c.html}</td>")
            else:
                tds.append(f"<td>{esc(c)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    c = f' class="{cls}"' if cls else ""

    def one(part: list[str]) -> str:
        return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{''.join(part)}</tbody></table>"

    out = one(body[:visible])
    if len(body) > visible:
        out += (f"<details><summary>show {len(body) - visible:,} more rows</summary>{one(body[visible:])}"
                "</details>")
    if total is not None and total > len(rows):
        out += f'<p class="note">showing {len(rows):,} of {total:,}</p>'
    return out


def tiles(items: Iterable[tuple[str, str]]) -> str:
    cells = "".join(f'<div class="tile"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>'
                    for k, v in items)
    return f'<div class="tiles">{cells}</div>'


def meter(score: Any, high: float | None = None) -> str:
    """A 0..1 bar; with ``high``, scores at or above it are drawn in the debt colour."""
    v = finite(score)
    w = 0.0 if v is None else max(0.0, min(1.0, v)) * 100
    cls = " high" if high is not None and v is not None and v >= high else ""
    return f'<div class="meter{cls}" aria-hidden="true"><span style="width:{w:.1f}%"></span></div>'


class RenderContext:
    """Per-render state: numbers the figures so their SVG ids are unique in the page. ``scope``
    (e.g. the section's name) prefixes the ids, so sections drawn apart (in parallel, by an
    engine's workers) still give unique ids and the same page."""

    def __init__(self, scope: str = "") -> None:
        self.figures = 0
        self.scope = scope

    def plot(self, make: Callable[[], str], caption: str = "") -> str:
        self.figures += 1
        try:
            svg = plots.scope_svg_ids(make(), f"{self.scope}fig{self.figures}")
        except Exception as exc:  # a broken plot must not lose the tables around it
            warnings.warn(f"curadebt report: plot failed: {exc!r}", RuntimeWarning, stacklevel=2)
            return f'<div class="render-error">plot failed: {esc(type(exc).__name__)}: {esc(exc)}</div>'
        cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
        return f'<figure class="plot" role="img" aria-label="{esc(caption)}">{svg}{cap}</figure>'


def not_measured(what: str = "not measured") -> str:
    return f'<p class="not-measured">{esc(what)}</p>'
