"""Small plots for the HTML report: plain data in, an inline SVG fragment (a string) out.

Every function draws with matplotlib's object API (no pyplot, no global figure state) under fixed
settings, so the output is small, offline and deterministic:

* ``svg.fonttype = 'none'``: text stays ``<text>`` (escaped by matplotlib's SVG writer), not paths;
* ``svg.hashsalt`` constant and no date/metadata block: the same data gives the same bytes;
* ``text.parse_math = False``: a ``$`` in corpus text is just a dollar sign, never mathtext;
* the XML prolog, DOCTYPE, comments, metadata and namespace URLs are stripped, so the fragment
  contains no URL at all (inline SVG in HTML5 needs none of them).

Labels are corpus text: they are cleaned of control characters and shortened, and left for
matplotlib to escape. Ids inside one SVG are generic (``figure_1``, ``m1a2b3...``); call
:func:`scope_svg_ids` with a distinct prefix before putting several SVGs in one page.
"""
from __future__ import annotations

import io
import math
import re
import unicodedata
from typing import Sequence

__all__ = [
    "PALETTE", "bar_svg", "cluster_size_svg", "grouped_bar_svg", "rank_frequency_svg",
    "scope_svg_ids", "short_label", "stacked_share_svg",
]

PALETTE = ["#3b6ea5", "#e07b39", "#5a9e4b", "#c44e52", "#8172b2", "#937860", "#da8bc3", "#8c8c8c",
           "#ccb974", "#64b5cd"]
OTHER_COLOR = "#c8c8c8"
HIGHLIGHT_COLOR = "#c44e52"

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "curadebt-report",
    "svg.image_inline": True,
    "text.usetex": False,
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],  # short: it is repeated on every <text>
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "path.simplify": True,
}
_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def short_label(text: object, width: int = 32) -> str:
    """A one-line, printable plot label: control characters and surrogates made visible/replaced,
    newlines and tabs shown as spaces, cut to ``width`` characters with an ellipsis."""
    s = "" if text is None else str(text)
    s = s.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    s = s.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    s = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Co")  # private use: no glyph anywhere
    if len(s) > width:
        s = s[: max(1, width - 1)] + "\u2026"
    return s


def _finite(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


# --------------------------------------------------------------------------------------------
# SVG plumbing

_PROLOG = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*")
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_METADATA_BLOCK = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_STYLE_DEFS = re.compile(r"<defs>\s*<style[^>]*>.*?</style>\s*</defs>\s*", re.S)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=72, layout="constrained")


def _to_svg(fig) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata=_METADATA)
    svg = buf.getvalue()
    svg = _PROLOG.sub("", svg)
    svg = _COMMENT.sub("", svg)
    svg = _METADATA_BLOCK.sub("", svg)
    svg = _STYLE_DEFS.sub("", svg)  # the same rule is in the page CSS (svg * {...})
    svg = _XMLNS.sub("", svg)
    return svg.strip() + "\n"


def _draw(width: float, height: float, draw) -> str:
    """Create a figure under the fixed rc settings, let ``draw(fig)`` fill it, return its SVG."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        fig = _figure(width, height)
        draw(fig)
        return _to_svg(fig)


_ID_ATTR = re.compile(r'\bid="([^"]+)"')
_HREF_REF = re.compile(r'(xlink:href|href)="#([^"]+)"')
_URL_REF = re.compile(r"url\(#([^)]+)\)")


def scope_svg_ids(svg: str, prefix: str) -> str:
    """Prefix every id (and every ``#id`` reference) in ``svg`` so that several SVGs can share one
    HTML document without id clashes. ``prefix`` must be a safe identifier ([A-Za-z0-9_-])."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", prefix):
        raise ValueError(f"unsafe id prefix: {prefix!r}")
    svg = _ID_ATTR.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = _HREF_REF.sub(lambda m: f'{m.group(1)}="#{prefix}-{m.group(2)}"', svg)
    return _URL_REF.sub(lambda m: f"url(#{prefix}-{m.group(1)})", svg)


def _si(value: float, _pos=None) -> str:
    """Plain-text tick label (no mathtext): 1, 10, 100, 1k, 10k, 1M, ..."""
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:g}{suffix}"
    return f"{value:g}"


def _log_axis(axis) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(_si))
    axis.set_minor_locator(NullLocator())  # minor log ticks double the drawing time for little


def _pct_axis(axis) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))


# --------------------------------------------------------------------------------------------
# plots


def rank_frequency_svg(series: dict[str, Sequence[Sequence[float]]], slopes: dict[str, float | None] | None = None,
                       title: str = "Rank-frequency (log-log)") -> str:
    """Log-log rank-frequency lines, one per n-gram order.

    ``series``: ``{"1": [[rank, count], ...], ...}``; ``slopes``: Zipf slope per order (legend).
    """
    slopes = slopes or {}

    def draw(fig):
        ax = fig.add_subplot()
        drawn = 0
        for i, (order, points) in enumerate(series.items()):
            pts = [(r, c) for r, c in ((_finite(p[0]), _finite(p[1])) for p in points or [] if len(p) >= 2)
                   if r is not None and c is not None and r > 0 and c > 0]
            if not pts:
                continue
            slope = _finite(slopes.get(order))
            label = f"{short_label(order, 8)}-gram" + (f" (slope {slope:.2f})" if slope is not None else "")
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=2.5, linewidth=1.2,
                    color=PALETTE[i % len(PALETTE)], label=label)
            drawn += 1
        if drawn:
            ax.set_xscale("log")
            ax.set_yscale("log")
            _log_axis(ax.xaxis)
            _log_axis(ax.yaxis)
            ax.legend(frameon=False)
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel("rank")
        ax.set_ylabel("count")
        ax.set_title(title)

    return _draw(6.0, 3.6, draw)


def bar_svg(labels: Sequence[object], values: Sequence[float], title: str = "", xlabel: str = "",
            percent: bool = False, highlight: Sequence[bool] | None = None, width: float = 6.0) -> str:
    """Horizontal bars, first item on top. ``percent``: values are shares in [0, 1].
    ``highlight[i]`` colours bar i red (e.g. outlier entities)."""
    labels = [short_label(x) for x in labels]
    vals = [_finite(v) or 0.0 for v in values]
    n = len(labels)

    def draw(fig):
        ax = fig.add_subplot()
        if n:
            colors = [HIGHLIGHT_COLOR if highlight and i < len(highlight) and highlight[i] else PALETTE[0]
                      for i in range(n)]
            ys = list(range(n))[::-1]
            ax.barh(ys, vals, color=colors, height=0.7)
            ax.set_yticks(ys, labels)
            ax.set_ylim(-0.6, n - 0.4)
            if percent:
                _pct_axis(ax.xaxis)
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
            ax.set_yticks([])
        ax.set_xlabel(xlabel)
        ax.set_title(title)

    return _draw(width, max(1.6, 0.8 + 0.22 * n), draw)


def grouped_bar_svg(categories: Sequence[object], series: dict[str, Sequence[float | None]], title: str = "",
                    xlabel: str = "", percent: bool = False, width: float = 6.5, log: bool = False,
                    colors: dict[str, str] | None = None) -> str:
    """Horizontal grouped bars: one group per category (first on top), one bar per series.
    ``colors``: optional colour per series name (default: the palette in order)."""
    cats = [short_label(c) for c in categories]
    names = list(series)
    n, k = len(cats), max(1, len(names))

    def draw(fig):
        ax = fig.add_subplot()
        if n and names:
            h = 0.8 / k
            for j, name in enumerate(names):
                vals = [_finite(v) for v in list(series[name])[:n]]
                vals += [None] * (n - len(vals))
                ys = [(n - 1 - i) + (k - 1) / 2 * h - j * h for i in range(n)]
                ax.barh(ys, [v or 0.0 for v in vals], height=h * 0.95,
                        color=(colors or {}).get(name, PALETTE[j % len(PALETTE)]),
                        label=short_label(name, 24))
            ax.set_yticks(list(range(n))[::-1], cats)
            ax.set_ylim(-0.6, n - 0.4)
            if log:
                ax.set_xscale("log")
                _log_axis(ax.xaxis)
            elif percent:
                _pct_axis(ax.xaxis)
            ax.legend(frameon=False, fontsize=8, loc="best")
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
            ax.set_yticks([])
        ax.set_xlabel(xlabel)
        ax.set_title(title)

    return _draw(width, max(1.8, 0.9 + (0.12 * k + 0.1) * n), draw)


def _size_buckets(max_size: int) -> list[tuple[int, int]]:
    buckets = [(2, 2), (3, 3), (4, 4)]
    lo = 5
    while lo <= max_size:
        hi = 2 * (lo - 1)
        buckets.append((lo, hi))
        lo = hi + 1
    return [b for b in buckets if b[0] <= max(max_size, 2)]


def cluster_size_svg(distributions: dict[str, dict[object, float]], title: str = "Duplicate clusters by size") -> str:
    """Clusters per size bucket (2, 3, 4, 5-8, 9-16, ...), one bar per kind (exact, near).

    ``distributions``: ``{"exact": {size: clusters}, "near": {...}}`` (sizes may be strings)."""
    clean: dict[str, dict[int, float]] = {}
    for kind, dist in distributions.items():
        d: dict[int, float] = {}
        for size, count in (dist or {}).items():
            s, c = _finite(size), _finite(count)
            if s is not None and c is not None and s >= 1 and c > 0:
                d[int(s)] = d.get(int(s), 0.0) + c
        clean[str(kind)] = d
    max_size = max((s for d in clean.values() for s in d), default=0)
    buckets = _size_buckets(max_size) if max_size else []
    names = list(clean)
    n, k = len(buckets), max(1, len(names))

    def draw(fig):
        ax = fig.add_subplot()
        if buckets and any(clean.values()):
            w = 0.8 / k
            for j, kind in enumerate(names):
                counts = [sum(c for s, c in clean[kind].items() if lo <= s <= hi) for lo, hi in buckets]
                xs = [i - (k - 1) / 2 * w + j * w for i in range(n)]
                ax.bar(xs, counts, width=w * 0.95, color=PALETTE[j % len(PALETTE)], label=short_label(kind, 16))
            ax.set_xticks(list(range(n)), [str(lo) if lo == hi else f"{lo}\u2013{hi}" for lo, hi in buckets])
            top = max(max(d.values(), default=0) for d in clean.values())
            if top >= 50:
                ax.set_yscale("log")
                ax.set_ylim(bottom=0.7)  # a bucket with one cluster stays visible
                _log_axis(ax.yaxis)
            ax.legend(frameon=False)
        else:
            ax.text(0.5, 0.5, "no duplicate clusters", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel("cluster size (documents)")
        ax.set_ylabel("clusters")
        ax.set_title(title)

    return _draw(6.0, 3.0, draw)


def stacked_share_svg(rows: Sequence[object], segments: Sequence[Sequence[tuple[object, float]]],
                      title: str = "", width: float = 6.5) -> str:
    """One horizontal 100% bar per row (first on top), split into labelled segments.

    ``segments[i]``: ``[(label, share), ...]`` for row i, largest first; segment j gets colour j
    (top answer, runner-up, ...), anything beyond the palette is grey. Segments wide enough carry
    their label; shares that do not add up to 1 leave the rest blank."""
    labels = [short_label(r) for r in rows]
    n = len(labels)

    def draw(fig):
        ax = fig.add_subplot()
        if n:
            for i, segs in enumerate(segments[:n]):
                y = n - 1 - i
                left = 0.0
                for j, (seg_label, share) in enumerate(segs):
                    v = _finite(share)
                    if v is None or v <= 0:
                        continue
                    v = min(v, max(0.0, 1.0 - left))
                    color = PALETTE[j] if j < 4 else OTHER_COLOR
                    ax.barh([y], [v], left=left, height=0.7, color=color, edgecolor="white", linewidth=0.5)
                    if v >= 0.12:
                        ax.text(left + v / 2, y, short_label(seg_label, max(3, int(v * 40))), ha="center",
                                va="center", fontsize=7, color="white" if j < 4 else "black")
                    left += v
            ax.set_yticks(list(range(n))[::-1], labels)
            ax.set_ylim(-0.6, n - 0.4)
            ax.set_xlim(0, 1)
            _pct_axis(ax.xaxis)
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
            ax.set_yticks([])
        ax.set_xlabel("share of evidence")
        ax.set_title(title)

    return _draw(width, max(1.6, 0.8 + 0.28 * n), draw)
