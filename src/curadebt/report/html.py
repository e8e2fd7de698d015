"""report.json -> one self-contained, offline HTML page.

The page has no script, no external resource (fonts, CSS, images, CDN), inline CSS, and plots as
inline SVG; a Content-Security-Policy meta tag forbids scripts and remote loads as a second line of
defence. All corpus-derived text (n-grams, entities, ids, sources, probe subjects and answers,
findings) is HTML-escaped here and XML-escaped by matplotlib inside the SVGs.

Every section is optional: a section that is missing, ``None`` or empty shows "not measured", a
missing key shows "—", and a section that fails to render shows an error box instead of taking the
whole page down. The output is deterministic: the same report gives the same bytes.
"""
from __future__ import annotations

import html
import json
import math
import re
import warnings
from typing import Any, Callable, Iterable, Sequence

from curadebt.report import plots

__all__ = ["render_report_html", "render_page", "SECTION_TITLES"]

SECTION_TITLES = {
    "frequency": "Frequency imbalance",
    "duplicates": "Duplicates",
    "salience": "Salience and spillover",
    "mixture": "Source mixture",
    "order": "Training order",
    "probes": "Competing facts (probes)",
}

MAX_ROWS = 50          # rows of any one table
VISIBLE_ROWS = 15      # rows shown before "show more"
MAX_BARS = 15          # bars in any one chart
MAX_PROBE_BARS = 25
MAX_EXAMPLE_IDS = 5
SEVERITY_ORDER = {"critical": 0, "high": 1, "error": 1, "medium": 2, "warning": 2, "warn": 2, "low": 3, "info": 4}

_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
        "base-uri 'none'; form-action 'none'")

_CSS = """
:root{color-scheme:light;--fg:#1d2330;--muted:#5b6475;--line:#dde1e8;--bg:#f6f7f9;--card:#fff;
--debt:#c44e52;--ok:#3c8d4e;--accent:#3b6ea5}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.3em;margin:0 0 .6em}h3{font-size:1.05em;margin:1.2em 0 .4em}
section,header.top{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 18px;margin:14px 0}
.meta,.note,figcaption{color:var(--muted);font-size:.9em}
nav.toc{font-size:.9em;margin:8px 0}nav.toc a{margin-right:12px;color:var(--accent);text-decoration:none}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.tile{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:120px;background:#fbfcfd}
.tile .v{font-size:1.25em;font-weight:600;font-variant-numeric:tabular-nums}.tile .k{color:var(--muted);font-size:.85em}
.recon.ok{color:var(--ok)}.recon.bad{color:var(--debt);font-weight:600}
table{border-collapse:collapse;margin:6px 0 10px;font-size:.92em}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td code,li code{font-size:.95em;background:#f3f4f6;padding:0 3px;border-radius:3px;overflow-wrap:break-word}
.grid{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
figure.plot{margin:8px 0;max-width:100%}figure.plot svg{max-width:100%;height:auto;display:block}
svg *{stroke-linejoin:round;stroke-linecap:butt}
.not-measured{color:var(--muted);font-style:italic}
.render-error{border:1px solid var(--debt);color:var(--debt);padding:8px;border-radius:6px}
#debt-summary .overall{display:flex;align-items:center;gap:16px}
#debt-summary .overall .score{font-size:2.4em;font-weight:700}
.meter{height:8px;background:#e8ebf0;border-radius:4px;overflow:hidden;min-width:120px}
.meter span{display:block;height:100%;background:var(--accent)}.meter.high span{background:var(--debt)}
.dims{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:10px;margin:12px 0}
.dim{border:1px solid var(--line);border-left:5px solid var(--ok);border-radius:6px;padding:10px 12px}
.dim.is-debt{border-left-color:var(--debt)}.dim.not-measured{border-left-color:var(--line);color:var(--muted)}.dim.is-debt .meter span{background:var(--debt)}
.dim .name{font-weight:600}.dim .score{float:right;font-weight:700;font-variant-numeric:tabular-nums}
.dim .summary{margin-top:6px}
.badge{display:inline-block;font-size:.75em;font-weight:600;padding:1px 6px;border-radius:9px;
background:#e8ebf0;color:var(--fg);text-transform:uppercase;letter-spacing:.03em}
.badge.debt,.badge.sev-critical,.badge.sev-high{background:var(--debt);color:#fff}
.badge.ok{background:var(--ok);color:#fff}.badge.sev-medium{background:#e07b39;color:#fff}
.badge.sev-low{background:#ccb974}.badge.sev-info{background:#dfe6ee}
ol.findings,header ul{padding-left:1.3em}ol.findings li{margin:4px 0}
details summary{cursor:pointer;color:var(--accent)}
pre{background:#f3f4f6;padding:8px;border-radius:6px;overflow:auto;font-size:.85em}
footer{color:var(--muted);font-size:.85em;text-align:center;margin-top:20px}
@media print{body{background:#fff}section,header.top{break-inside:avoid-page}}
"""


# --------------------------------------------------------------------------------------------
# text and number helpers


class _H(str):
    """Trusted HTML (built here from escaped parts); anything else is escaped before output."""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _clean(s: str) -> str:
    s = s.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


def _e(value: Any) -> str:
    """Escape anything for HTML text or a quoted attribute."""
    if isinstance(value, _H):
        return value
    return html.escape(_clean("" if value is None else str(value)), quote=True)


def _finite(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


DASH = "\u2014"


def _num(x: Any, digits: int = 3) -> str:
    if x is None:
        return DASH
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, dict):  # several thresholds: "top source share 0.5, source entropy 0.7"
        return ", ".join(f"{str(k).replace('_', ' ')} {_num(v, digits)}" for k, v in x.items())
    if isinstance(x, int):
        return f"{x:,}"
    v = _finite(x)
    if v is None:
        return str(x)
    if v == int(v) and abs(v) >= 1000:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def _pct(x: Any) -> str:
    v = _finite(x)
    if v is None:
        return DASH if x is None else str(x)
    p = v * 100
    if p != 0 and abs(p) < 0.1:
        return f"{p:.2g}%"
    return f"{p:.1f}%"


def _ratio(x: Any) -> str:
    v = _finite(x)
    return DASH if v is None else f"{v:.2f}\u00d7"


def _bytes(x: Any) -> str:
    v = _finite(x)
    if v is None:
        return DASH
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(v) < 1024 or unit == "TB":
            return f"{v:,.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    return DASH  # unreachable


def _frac_label(key: Any) -> str:
    """Window key "0.01" -> "1%"."""
    v = _finite(key)
    return _e(key) if v is None else f"{v * 100:g}%"


def _frac_sort(keys: Iterable[Any]) -> list:
    return sorted(keys, key=lambda k: (_finite(k) is None, _finite(k) or 0.0, str(k)))


def _d(x: Any) -> dict:
    return x if isinstance(x, dict) else {}


def _l(x: Any) -> list:
    return x if isinstance(x, list) else []


def _first(d: dict, *keys: str) -> Any:
    for k in keys:
        if d.get(k) is not None:
            return d[k]
    return None


# --------------------------------------------------------------------------------------------
# HTML building blocks


class _Cell:
    __slots__ = ("html", "num")

    def __init__(self, html_: str, num: bool = False):
        self.html, self.num = html_, num


def _n(x: Any, fmt: Callable[[Any], str] = _num) -> _Cell:
    return _Cell(_e(fmt(x)), num=True)


def _code(x: Any) -> _H:
    return _H(f"<code>{_e(x)}</code>")


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], total: int | None = None, cls: str = "",
           visible: int = VISIBLE_ROWS) -> str:
    """A table of escaped cells (``_Cell``/``_H`` are trusted). Rows beyond ``visible`` go into a
    collapsed continuation table; ``total`` > rows adds a "showing n of total" note."""
    rows = list(rows)
    if not rows:
        return '<p class="note">none</p>'
    numeric = [any(isinstance(r[i], _Cell) and r[i].num for r in rows if i < len(r)) for i in range(len(headers))]
    head = "".join(f'<th class="num">{_e(h)}</th>' if numeric[i] else f"<th>{_e(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for r in rows:
        tds = []
        for c in r:
            if isinstance(c, _Cell):
                tds.append(f'<td class="num">{c.html}</td>' if c.num else f"<td>{c.html}</td>")
            else:
                tds.append(f"<td>{_e(c)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    c = f' class="{cls}"' if cls else ""

    def table(part: list[str]) -> str:
        return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{''.join(part)}</tbody></table>"

    out = table(body[:visible])
    if len(body) > visible:
        out += (f"<details><summary>show {len(body) - visible:,} more rows</summary>{table(body[visible:])}"
                "</details>")
    if total is not None and total > len(rows):
        out += f'<p class="note">showing {len(rows):,} of {total:,}</p>'
    return out


def _tiles(items: Iterable[tuple[str, str]]) -> str:
    cells = "".join(f'<div class="tile"><div class="v">{_e(v)}</div><div class="k">{_e(k)}</div></div>'
                    for k, v in items)
    return f'<div class="tiles">{cells}</div>'


def _meter(score: Any, high: float | None = None) -> str:
    """A 0..1 bar; with ``high``, scores at or above it are drawn in the debt colour."""
    v = _finite(score)
    w = 0.0 if v is None else max(0.0, min(1.0, v)) * 100
    cls = " high" if high is not None and v is not None and v >= high else ""
    return f'<div class="meter{cls}" aria-hidden="true"><span style="width:{w:.1f}%"></span></div>'


class _Ctx:
    """Per-render state: numbers the figures so their SVG ids are unique in the page."""

    def __init__(self) -> None:
        self.figures = 0

    def plot(self, make: Callable[[], str], caption: str = "") -> str:
        self.figures += 1
        try:
            svg = plots.scope_svg_ids(make(), f"fig{self.figures}")
        except Exception as exc:  # a broken plot must not lose the tables around it
            warnings.warn(f"curadebt report: plot failed: {exc!r}", RuntimeWarning, stacklevel=2)
            return f'<div class="render-error">plot failed: {_e(type(exc).__name__)}: {_e(exc)}</div>'
        cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
        return f'<figure class="plot" role="img" aria-label="{_e(caption)}">{svg}{cap}</figure>'


def _not_measured(what: str = "not measured") -> str:
    return f'<p class="not-measured">{_e(what)}</p>'


# --------------------------------------------------------------------------------------------
# header and debt summary


def _render_header(report: dict, title: str) -> str:
    tool = _d(report.get("tool"))
    corpus = _d(report.get("corpus"))
    meta = [f"{_e(tool.get('name') or 'curadebt')} {_e(tool.get('version') or '')}".strip(),
            f"schema {_e(report.get('schema_version', DASH))}"]
    if corpus.get("tokenizer") is not None:
        meta.append(f"tokenizer {_e(corpus.get('tokenizer'))}")
    out = [f'<header class="top" id="corpus"><h1>{_e(title)}</h1><p class="meta">{" · ".join(meta)}</p>']
    if not corpus:
        out.append(_not_measured("corpus counts not recorded"))
    else:
        read, audited, quar = corpus.get("documents_read"), corpus.get("documents_audited"), corpus.get("documents_quarantined")
        files = corpus.get("files")
        out.append(_tiles([
            ("documents read", _num(read)), ("audited", _num(audited)), ("quarantined", _num(quar)),
            ("tokens", _num(corpus.get("tokens"))), ("bytes read", _bytes(corpus.get("bytes_read"))),
            ("files", _num(len(files) if isinstance(files, list) else files)),
        ]))
        if all(isinstance(x, int) for x in (read, audited, quar)):
            if read == audited + quar:
                out.append(f'<p class="recon ok">read = audited + quarantined: {read:,} = {audited:,} + {quar:,}</p>')
            else:
                out.append(f'<p class="recon bad">counts do not reconcile: read {read:,} \u2260 audited {audited:,}'
                           f" + quarantined {quar:,}</p>")
        if corpus.get("decoded_with_fallback"):
            out.append(f'<p class="note">{_e(_num(corpus.get("decoded_with_fallback")))} documents decoded with a '
                       "fallback encoding</p>")
        if isinstance(files, list) and files:
            names = "".join(f"<li><code>{_e(f)}</code></li>" for f in files[:MAX_ROWS * 4])
            more = f"<li>\u2026 {len(files) - MAX_ROWS * 4:,} more</li>" if len(files) > MAX_ROWS * 4 else ""
            out.append(f"<details><summary>{len(files):,} input file{'s' if len(files) != 1 else ''}</summary>"
                       f"<ul>{names}{more}</ul></details>")
        reasons = _d(corpus.get("quarantine_reasons"))
        if reasons:
            rows = sorted(reasons.items(), key=lambda kv: (-(_finite(kv[1]) or 0), str(kv[0])))
            out.append("<h3>Quarantine reasons</h3>" + _table(["reason", "documents"], [(k, _n(v)) for k, v in rows]))
    out.append("</header>")
    return "".join(out)


def _severity_key(f: dict) -> int:
    return SEVERITY_ORDER.get(str(f.get("severity", "")).lower(), 5)


def _sev_class(sev: Any) -> str:
    s = str(sev).lower()
    return f"sev-{s}" if s in SEVERITY_ORDER else "sev-other"


def _render_debt(report: dict) -> str:
    debt = report.get("debt")
    out = ['<section id="debt-summary" class="debt-summary"><h2>Debt summary</h2>']
    if not isinstance(debt, dict) or not debt:
        out.append(_not_measured("debt not scored"))
        out.append("</section>")
        return "".join(out)
    dims = {str(k): _d(v) for k, v in _d(debt.get("dimensions")).items()}

    def measured(dim: dict) -> bool:
        if dim.get("measured") is not None:
            return bool(dim.get("measured"))
        return dim.get("score") is not None or dim.get("is_debt") is not None

    n_measured = sum(1 for d in dims.values() if measured(d))
    n_debt = sum(1 for d in dims.values() if measured(d) and d.get("is_debt"))
    overall = debt.get("overall")
    status = f"{n_debt} of {n_measured} measured dimensions in debt"
    if n_measured < len(dims):
        status += f" ({len(dims) - n_measured} not measured)"
    out.append(f'<div class="overall"><div class="score">{_e(_num(overall, 2))}</div><div>'
               f'<div>overall debt score (0 = none, 1 = severe)</div>{_meter(overall, high=0.5)}'
               f'<div class="note">{_e(status)}</div></div></div>')
    if dims:
        cards = []
        for name, dim in dims.items():
            if not measured(dim):
                cls, badge = " not-measured", '<span class="badge">not measured</span>'
            elif dim.get("is_debt"):
                cls, badge = " is-debt", '<span class="badge debt">debt</span>'
            else:
                cls, badge = "", '<span class="badge ok">ok</span>'
            vt = []
            if dim.get("value") is not None:
                vt.append(f"value {_e(_num(dim.get('value')))}")
            if dim.get("threshold") is not None:
                vt.append(f"threshold {_e(_num(dim.get('threshold')))}")
            cards.append(
                f'<div class="dim{cls}">'
                f'<div><span class="name">{_e(name)}</span> {badge}'
                f'<span class="score">{_e(_num(dim.get("score"), 2))}</span></div>{_meter(dim.get("score"))}'
                + (f'<div class="note">{" · ".join(vt)}</div>' if vt else "")
                + (f'<div class="summary">{_e(dim.get("summary"))}</div>' if dim.get("summary") else "")
                + "</div>")
        out.append(f'<div class="dims">{"".join(cards)}</div>')
    findings = [f for f in _l(debt.get("findings")) if isinstance(f, dict)]
    out.append("<h3>Findings</h3>")
    if findings:
        items = []
        for f in sorted(findings, key=_severity_key):  # stable: producer order within a severity
            sev = f.get("severity") or "info"
            subject = f' \u2014 <code>{_e(f.get("subject"))}</code>' if f.get("subject") not in (None, "") else ""
            dim = f'<strong>{_e(f.get("dimension"))}</strong>: ' if f.get("dimension") else ""
            items.append(f'<li><span class="badge {_sev_class(sev)}">{_e(sev)}</span> {dim}{_e(f.get("message"))}'
                         f"{subject}</li>")
        out.append(f'<ol class="findings">{"".join(items)}</ol>')
    else:
        out.append('<p class="note">no findings</p>')
    out.append("</section>")
    return "".join(out)


# --------------------------------------------------------------------------------------------
# measure sections


def _render_frequency(sec: dict, ctx: _Ctx) -> str:
    ngrams = {str(k): _d(v) for k, v in _d(sec.get("ngrams")).items()}
    ngrams = dict(sorted(ngrams.items(), key=lambda kv: (_finite(kv[0]) is None, _finite(kv[0]) or 0, kv[0])))
    out = []
    if sec.get("tokens") is not None:
        out.append(_tiles([("tokens", _num(sec.get("tokens")))]))
    if not ngrams:
        return "".join(out) + _not_measured("no n-gram statistics")
    rows = []
    for order, st in ngrams.items():
        cov = _d(st.get("top_coverage"))
        exact = st.get("exact")
        exact_s = "exact" if exact is True else (f"\u00b1{_num(st.get('error_bound'))}" if exact is False else DASH)
        rows.append([_code(order), _n(st.get("total")), _n(st.get("distinct")), exact_s,
                     _n(st.get("zipf_slope")), _n(st.get("gini")), _n(st.get("normalized_entropy")),
                     _n(cov.get("10"), _pct), _n(cov.get("100"), _pct), _n(cov.get("1000"), _pct)])
    out.append(_table(["n", "total", "distinct", "counts", "Zipf slope", "Gini", "norm. entropy",
                       "top-10 cover", "top-100 cover", "top-1000 cover"], rows))
    out.append('<p class="note">Zipf slope near \u22121 is natural language; steeper, a high Gini, low entropy '
               "and high top coverage mean a few n-grams dominate. \u201c\u00b1\u201d is the largest overcount "
               "of any listed count when counting was approximate.</p>")
    series = {o: _l(st.get("rank_frequency")) for o, st in ngrams.items() if _l(st.get("rank_frequency"))}
    if series:
        out.append(ctx.plot(lambda: plots.rank_frequency_svg(series, {o: st.get("zipf_slope") for o, st in ngrams.items()}),
                            "Rank-frequency per n-gram order, log-log (legend: fitted Zipf slope)."))
    tops = []
    for order, st in ngrams.items():
        top = [t for t in _l(st.get("top")) if isinstance(t, (list, tuple)) and len(t) >= 2]
        if not top:
            continue
        total = _finite(st.get("total"))
        rows = [[_n(i + 1), _code(g), _n(c), _n((_finite(c) or 0) / total if total else None, _pct)]
                for i, (g, c, *_) in enumerate(top[:MAX_ROWS])]
        tops.append(f"<div><h3>Top {_e(order)}-grams</h3>"
                    + _table(["#", "n-gram", "count", "share"], rows, total=len(top)) + "</div>")
    if tops:
        out.append(f'<div class="grid">{"".join(tops)}</div>')
    return "".join(out)


def _render_duplicates(sec: dict, ctx: _Ctx) -> str:
    out = [_tiles(([("documents", _num(sec.get("documents")))] if sec.get("documents") is not None else []) + [
        ("exact duplicate documents", _num(sec.get("exact_duplicate_documents"))),
        ("exact clusters", _num(sec.get("exact_clusters"))),
        ("near-duplicate documents", _num(sec.get("near_duplicate_documents"))),
        ("near clusters", _num(sec.get("near_clusters"))),
        ("duplicate share", _pct(sec.get("duplicate_share"))),
    ])]
    dist = _d(sec.get("cluster_size_distribution"))
    if dist:
        out.append(ctx.plot(lambda: plots.cluster_size_svg({str(k): _d(v) for k, v in dist.items()}),
                            "Duplicate clusters per size bucket, exact versus near (log scale when counts are large)."))
    clusters = [c for c in _l(sec.get("largest_clusters")) if isinstance(c, dict)]
    out.append("<h3>Largest clusters</h3>")
    if clusters:
        rows = []
        for c in clusters[:MAX_ROWS]:
            ids = _l(c.get("example_ids"))
            shown = ", ".join(f"<code>{_e(i)}</code>" for i in ids[:MAX_EXAMPLE_IDS])
            if len(ids) > MAX_EXAMPLE_IDS:
                shown += f" (+{len(ids) - MAX_EXAMPLE_IDS:,} more)"
            rows.append([c.get("kind"), _n(c.get("size")), _code(c.get("representative")), c.get("preview") or "",
                         _H(shown)])
        out.append(_table(["kind", "size", "representative", "text", "example ids"], rows, total=len(clusters)))
    else:
        out.append('<p class="note">no duplicate clusters</p>')
    params = _d(sec.get("params"))
    extra = [(k, sec.get(k)) for k in ("candidate_pairs", "verified_pairs") if sec.get(k) is not None]
    if params or extra:
        kv = [(k, _n(v)) for k, v in list(params.items()) + extra]
        out.append("<details><summary>Near-duplicate parameters</summary>" + _table(["parameter", "value"], kv)
                   + "</details>")
    return "".join(out)


def _render_salience(sec: dict, ctx: _Ctx) -> str:
    tiles = [("entity mentions", _num(sec.get("entity_mentions"))), ("entity types", _num(sec.get("entity_types")))]
    if isinstance(sec.get("outliers"), list):
        tiles.append(("outlier entities", _num(len(sec["outliers"]))))
    if sec.get("z_cutoff") is not None:
        tiles.append(("outlier z cutoff", _num(sec.get("z_cutoff"))))
    out = [_tiles(tiles)]
    if sec.get("exact") is False:
        out.append(f'<p class="note">Counts are approximate (bounded memory): entity counts may be low by up to '
                   f'{_e(_num(sec.get("entity_error")))}, token counts by up to {_e(_num(sec.get("token_error")))}.</p>')
    ents = [e for e in _l(sec.get("entities")) if isinstance(e, dict)]
    out.append("<h3>Top entities</h3>")
    if ents:
        top = ents[:MAX_BARS]
        out.append(ctx.plot(
            lambda: plots.bar_svg([e.get("entity") for e in top], [e.get("mention_share") for e in top],
                                  title="Top entities by share of entity mentions", xlabel="share of mentions",
                                  percent=True, highlight=[bool(e.get("outlier")) for e in top]),
            "Top entities by share of all entity mentions; red bars are outliers (z-score)."))
        rows = [[_code(e.get("entity")), _n(e.get("mentions")), _n(e.get("documents")),
                 _n(e.get("mention_share"), _pct), _n(e.get("z")),
                 _H('<span class="badge debt">outlier</span>') if e.get("outlier") else ""]
                for e in ents[:MAX_ROWS]]
        out.append(_table(["entity", "mentions", "documents", "mention share", "z", ""], rows, total=len(ents)))
    else:
        out.append('<p class="note">no entities found</p>')
    comp = [c for c in _l(sec.get("competition")) if isinstance(c, dict)]
    out.append("<h3>Competition for shared tokens</h3>")
    if comp:
        out.append('<p class="note">For a token that several entities continue ("Tom" in "Tom Cruise", "Tom '
                   'Hanks"), its dominant continuation against the median of its established competitors (at least '
                   f'{_e(_num(sec.get("min_peer_documents")))} documents each). At 10x, a model continues the token '
                   'with the dominant one in contexts about the others (the debt threshold). A collocation (a word '
                   'hardly used outside one name) is listed, never scored.</p>')
        top = [c for c in comp if c.get("status") == "competition"][:MAX_BARS]
        if top:
            out.append(ctx.plot(
                lambda: plots.bar_svg([f"{c.get('token')} \u2192 {c.get('continuation')}" for c in top],
                                      [c.get("ratio") for c in top], title="Dominant continuation vs its competitors",
                                      xlabel="documents / median competitor's documents",
                                      highlight=[(c.get("ratio") or 0) >= 10 for c in top]),
                "Documents of each token's dominant continuation over the median of its established competitors."))
        rows = [[_code(c.get("token")), _code(c.get("continuation")), _code(c.get("entity")), _n(c.get("documents")),
                 _n(c.get("established_peers")), _n(c.get("median_peer_documents")), _n(c.get("ratio"), _ratio),
                 _n(c.get("excess_documents")), str(c.get("status", "")).replace("_", " "),
                 ", ".join(f"{p[0]} {p[1]}" for p in _l(c.get("peers"))[:4] if isinstance(p, (list, tuple)))]
                for c in comp[:MAX_ROWS]]
        out.append(_table(["token", "continuation", "entity", "documents", "competitors", "median", "ratio",
                           "over parity", "status", "other continuations"], rows, total=len(comp)))
    else:
        out.append('<p class="note">no entity token in enough documents to compare</p>')
    spill = [s for s in _l(sec.get("spillover")) if isinstance(s, dict)]
    out.append("<h3>Token shares (context)</h3>")
    if spill:
        out.append('<p class="note">How often a token of a salient entity occurs inside that entity (share) and how '
                   "much more often than expected (lift): a token captured by one entity is pulled towards it in "
                   "unrelated contexts.</p>")
        top = spill[:MAX_BARS]
        out.append(ctx.plot(
            lambda: plots.bar_svg([f"{s.get('token')} \u2190 {s.get('entity')}" for s in top],
                                  [s.get("share") for s in top], title="Token occurrences inside the entity",
                                  xlabel="share of the token's occurrences", percent=True),
            "Spillover: share of each token's occurrences that are inside the entity."))
        rows = [[_code(s.get("token")), _code(s.get("entity")), _n(s.get("token_count")),
                 _n(s.get("entity_mentions")), _n(s.get("share"), _pct), _n(s.get("lift"), _ratio),
                 _n(s.get("expected_count"))] for s in spill[:MAX_ROWS]]
        out.append(_table(["token", "entity", "token count", "entity mentions", "share", "lift", "expected"],
                          rows, total=len(spill)))
    else:
        out.append('<p class="note">no spillover measured</p>')
    return "".join(out)


def _render_mixture(sec: dict, ctx: _Ctx) -> str:
    top_share = sec.get("top_share")
    out = [_tiles([
        ("source field", str(sec.get("field")) if sec.get("field") is not None else DASH),
        ("sources", _num(len(_l(sec.get("sources"))))),
        ("top source", f"{_clean(str(sec.get('top_source')))} ({_pct(top_share)})" if sec.get("top_source") is not None else DASH),
        ("largest / smallest", _ratio(sec.get("imbalance_max_min"))),
        ("normalized entropy", _num(sec.get("normalized_entropy"))),
    ])]
    sources = [s for s in _l(sec.get("sources")) if isinstance(s, dict)]
    if not sources:
        return "".join(out) + '<p class="note">no sources</p>'
    top = sources[:MAX_BARS]
    out.append(ctx.plot(
        lambda: plots.grouped_bar_svg([s.get("source") for s in top],
                                      {"documents": [s.get("document_share") for s in top],
                                       "tokens": [s.get("token_share") for s in top]},
                                      title="Share per source", xlabel="share", percent=True),
        "Documents and tokens per source, as shares of the corpus."
        + (f" Showing {len(top)} of {len(sources)} sources." if len(sources) > len(top) else "")))
    rows = [[_code(s.get("source")), _n(s.get("documents")), _n(s.get("document_share"), _pct),
             _n(s.get("tokens")), _n(s.get("token_share"), _pct)] for s in sources[:MAX_ROWS]]
    out.append(_table(["source", "documents", "document share", "tokens", "token share"], rows, total=len(sources)))
    return "".join(out)


def _concentration_table(items: list[dict], name_keys: tuple[str, ...], label: str, keys: list) -> str:
    last = keys[-1] if keys else None
    rows = []
    for it in items[:MAX_ROWS]:
        early = _d(it.get("early_share"))
        conc = _d(it.get("concentration"))
        rows.append([_code(_first(it, *name_keys)), _n(it.get("overall_share"), _pct)]
                    + [_n(early.get(k), _pct) for k in keys]
                    + [_n(conc.get(last), _ratio) if last is not None else _n(None)])
    headers = [label, "overall share"] + [f"first {_frac_label(k)}" for k in keys]
    headers.append(f"concentration (first {_frac_label(last)})" if last is not None else "concentration")
    return _table(headers, rows, total=len(items))


def _render_order(sec: dict, ctx: _Ctx) -> str:
    item = sec.get("max_concentration_item")
    out = [_tiles([
        ("max concentration", _ratio(sec.get("max_concentration")) + (f" ({_clean(str(item))})" if item is not None else "")),
        ("max source TVD", _num(sec.get("max_source_tvd"))),
    ])]
    out.append('<p class="note">File order is taken as training order. Concentration = share in the first part '
               "of the tokens \u00f7 share overall; above 1 means the item is front-loaded and dominates early "
               "training.</p>")
    sources = [s for s in _l(sec.get("sources")) if isinstance(s, dict)]
    entities = [e for e in _l(sec.get("entities")) if isinstance(e, dict)]
    keys = _frac_sort({k for it in sources + entities for k in _d(it.get("early_share"))})
    out.append("<h3>Sources: early versus overall</h3>")
    if sources:
        top = sources[:MAX_BARS]
        series = {f"first {_frac_label(k)}": [_d(s.get("early_share")).get(k) for s in top] for k in keys}
        series["overall"] = [s.get("overall_share") for s in top]
        out.append(ctx.plot(
            lambda: plots.grouped_bar_svg([_first(s, "source", "name") for s in top], series,
                                          title="Source share early in training versus overall",
                                          xlabel="share of tokens", percent=True, colors={"overall": "#555555"}),
            "Per source: token share in the first windows of the corpus versus overall."))
        out.append(_concentration_table(sources, ("source", "name"), "source", keys))
    else:
        out.append('<p class="note">no sources</p>')
    out.append("<h3>Entities: early versus overall</h3>")
    out.append(_concentration_table(entities, ("entity", "name"), "entity", keys) if entities
               else '<p class="note">no entities</p>')
    windows = [w for w in _l(sec.get("windows")) if isinstance(w, dict)]
    out.append("<h3>Early windows: mix and diversity</h3>")
    if windows:
        rows = [[_frac_label(w.get("fraction")), _n(w.get("tokens")), _n(w.get("documents")), _n(w.get("source_tvd")),
                 _n(w.get("source_normalized_entropy")), _n(w.get("distinct_entities")), _n(w.get("entity_mentions")),
                 _n(w.get("entity_diversity"))] for w in windows]
        out.append(_table(["window", "tokens", "documents", "source TVD", "source entropy", "distinct entities",
                           "entity mentions", "entity diversity"], rows))
        out.append('<p class="note">Source TVD: total-variation distance of the window\u2019s source mix from the '
                   "whole corpus (0 = same mix). Entity diversity: distinct entities \u00f7 entity mentions in the "
                   "window (low = a few entities repeated).</p>")
    else:
        out.append('<p class="note">no windows</p>')
    return "".join(out)


def _answers(p: dict) -> list[dict]:
    ans = [a for a in _l(p.get("answers")) if isinstance(a, dict)]
    return sorted(ans, key=lambda a: (-(_finite(a.get("share")) or 0.0), str(a.get("answer"))))


def _render_probes(sec: dict, ctx: _Ctx) -> str:
    probes = [p for p in _l(sec.get("probes")) if isinstance(p, dict)]
    tiles = [("probes", _num(sec.get("count") if sec.get("count") is not None else len(probes)))]
    for key, label in (("with_evidence", "with evidence"), ("dominated", "dominated"),
                       ("dominance_threshold", "dominance threshold"), ("max_dominance_ratio", "max dominance"),
                       ("documents_with_subject", "documents with a subject")):
        if sec.get(key) is not None:
            tiles.append((label, _ratio(sec[key]) if "dominance" in key else _num(sec[key])))
    out = [_tiles(tiles)]
    if not probes:
        return "".join(out) + '<p class="note">no probes</p>'
    out.append('<p class="note">For each probed fact, the share of corpus evidence for each competing answer. '
               "The dominance ratio (top answer \u00f7 runner-up) estimates how many counter-examples a later "
               "correction has to outweigh.</p>")
    top = probes[:MAX_PROBE_BARS]
    out.append(ctx.plot(
        lambda: plots.stacked_share_svg([_first(p, "subject", "id") for p in top],
                                        [[(a.get("answer"), a.get("share")) for a in _answers(p)] for p in top],
                                        title="Evidence share per answer"),
        "Stacked share of evidence per answer (largest first), one bar per probe."
        + (f" Showing {len(top)} of {len(probes)} probes." if len(probes) > len(top) else "")))
    rows = []
    for p in probes[:MAX_ROWS * 4]:
        ans = "; ".join(
            f"<code>{_e(a.get('answer'))}</code> {_e(_pct(a.get('share')))} "
            f"({_e(_num(a.get('documents')))} docs, {_e(_num(a.get('sentences')))} sent., "
            f"{_e(_num(a.get('pattern_matches')))} pattern)" for a in _answers(p))
        dom = p.get("dominance_ratio")
        dom_cell = _n(dom, _ratio) if dom is not None else _Cell("no runner-up" if p.get("runner_up") is None else DASH)
        rows.append([_code(p.get("id")), p.get("subject"), _code(p.get("top_answer")), _code(p.get("runner_up")),
                     dom_cell, p.get("basis") if p.get("basis") is not None else DASH, _H(ans)])
    out.append(_table(["id", "subject", "top answer", "runner-up", "dominance", "basis", "answers"], rows,
                      total=len(probes)))
    return "".join(out)


_RENDERERS: dict[str, Callable[[dict, _Ctx], str]] = {
    "frequency": _render_frequency,
    "duplicates": _render_duplicates,
    "salience": _render_salience,
    "mixture": _render_mixture,
    "order": _render_order,
    "probes": _render_probes,
}


def _render_section(name: str, sec: Any, ctx: _Ctx) -> str:
    body: str
    if not isinstance(sec, dict) or not sec:
        body = _not_measured()
    else:
        try:
            body = _RENDERERS[name](sec, ctx)
        except Exception as exc:  # one malformed section must not take the whole report down
            warnings.warn(f"curadebt report: section {name!r} failed to render: {exc!r}", RuntimeWarning, stacklevel=2)
            body = f'<div class="render-error">could not render this section: {_e(type(exc).__name__)}: {_e(exc)}</div>'
    return f'<section id="sec-{name}" class="measure"><h2>{_e(SECTION_TITLES[name])}</h2>{body}</section>'


# --------------------------------------------------------------------------------------------
# page


def render_report_html(report: dict, title: str | None = None,
                       extra_sections: list[tuple[str, str]] | None = None) -> str:
    """Render a report.json dict (see docs/report-schema.md) as one self-contained HTML page.

    ``extra_sections``: ``[(title, html_fragment), ...]`` appended after the measures (e.g. curate
    before/after, lab results). The title is escaped; the fragment is inserted as is, so it must be
    built from escaped text and must not load anything (no script, no remote URL: the page's
    Content-Security-Policy blocks both anyway).
    """
    report = report if isinstance(report, dict) else {}
    title = title or "Data curation debt report"
    ctx = _Ctx()
    parts = [_render_header(report, title), _render_debt(report)]
    for name in SECTION_TITLES:
        parts.append(_render_section(name, report.get(name), ctx))
    toc = [("#corpus", "Corpus"), ("#debt-summary", "Debt")] + [(f"#sec-{n}", t) for n, t in SECTION_TITLES.items()]
    for i, (sec_title, fragment) in enumerate(extra_sections or []):
        anchor = f"extra-{i + 1}"
        parts.append(f'<section id="{anchor}" class="extra"><h2>{_e(sec_title)}</h2>{fragment}</section>')
        toc.append((f"#{anchor}", str(sec_title)))
    nav = '<nav class="toc">' + "".join(f'<a href="{a}">{_e(t)}</a>' for a, t in toc) + "</nav>"
    config = report.get("config")
    if isinstance(config, dict) and config:
        cfg = json.dumps(config, indent=2, ensure_ascii=False, sort_keys=False, default=str)
        parts.append(f"<details><summary>Run configuration</summary><pre>{_e(cfg)}</pre></details>")
    tool = _d(report.get("tool"))
    parts.append(f"<footer>{_e(tool.get('name') or 'curadebt')} {_e(tool.get('version') or '')} \u00b7 "
                 "self-contained report: no scripts, no network</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            + parts[0] + "\n" + nav + "\n" + "\n".join(parts[1:]) + "\n</main>\n</body>\n</html>\n")


def render_page(title: str, sections: list[tuple[str, str]], meta: str = "") -> str:
    """A self-contained page in the report's style (same CSS and Content-Security-Policy) holding only
    ``sections`` (``[(title, html_fragment), ...]``; titles and ``meta`` are escaped, fragments are
    inserted as is, as in :func:`render_report_html`). Used for lab results without an audit report."""
    head = f'<header class="top"><h1>{_e(title)}</h1>' + (f'<p class="meta">{_e(meta)}</p>' if meta else "") + "</header>"
    body = [f'<section id="extra-{i + 1}" class="extra"><h2>{_e(t)}</h2>{frag}</section>'
            for i, (t, frag) in enumerate(sections)]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            + head + "\n" + "\n".join(body) + "\n<footer>curadebt \u00b7 self-contained page: no scripts, no network"
            "</footer>\n</main>\n</body>\n</html>\n")
