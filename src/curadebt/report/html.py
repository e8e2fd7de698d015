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

import json
import re
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from curadebt.report import htmlkit as hk

__all__ = ["SectionView", "render_report_html", "render_page"]

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


# --------------------------------------------------------------------------------------------
# header and debt summary


def _render_header(report: dict, title: str) -> str:
    tool = hk.as_dict(report.get("tool"))
    corpus = hk.as_dict(report.get("corpus"))
    meta = [f"{hk.esc(tool.get('name') or 'curadebt')} {hk.esc(tool.get('version') or '')}".strip(),
            f"schema {hk.esc(report.get('schema_version', hk.DASH))}"]
    if corpus.get("tokenizer") is not None:
        meta.append(f"tokenizer {hk.esc(corpus.get('tokenizer'))}")
    out = [f'<header class="top" id="corpus"><h1>{hk.esc(title)}</h1><p class="meta">{" · ".join(meta)}</p>']
    if not corpus:
        out.append(hk.not_measured("corpus counts not recorded"))
    else:
        read, audited, quar = corpus.get("documents_read"), corpus.get("documents_audited"), corpus.get("documents_quarantined")
        files = corpus.get("files")
        out.append(hk.tiles([
            ("documents read", hk.num(read)), ("audited", hk.num(audited)), ("quarantined", hk.num(quar)),
            ("tokens", hk.num(corpus.get("tokens"))), ("bytes read", hk.nbytes(corpus.get("bytes_read"))),
            ("files", hk.num(len(files) if isinstance(files, list) else files)),
        ]))
        if all(isinstance(x, int) for x in (read, audited, quar)):
            if read == audited + quar:
                out.append(f'<p class="recon ok">read = audited + quarantined: {read:,} = {audited:,} + {quar:,}</p>')
            else:
                out.append(f'<p class="recon bad">counts do not reconcile: read {read:,} \u2260 audited {audited:,}'
                           f" + quarantined {quar:,}</p>")
        if corpus.get("decoded_with_fallback"):
            out.append(f'<p class="note">{hk.esc(hk.num(corpus.get("decoded_with_fallback")))} documents decoded with a '
                       "fallback encoding</p>")
        if isinstance(files, list) and files:
            names = "".join(f"<li><code>{hk.esc(f)}</code></li>" for f in files[:hk.MAX_ROWS * 4])
            more = f"<li>\u2026 {len(files) - hk.MAX_ROWS * 4:,} more</li>" if len(files) > hk.MAX_ROWS * 4 else ""
            out.append(f"<details><summary>{len(files):,} input file{'s' if len(files) != 1 else ''}</summary>"
                       f"<ul>{names}{more}</ul></details>")
        reasons = hk.as_dict(corpus.get("quarantine_reasons"))
        if reasons:
            rows = sorted(reasons.items(), key=lambda kv: (-(hk.finite(kv[1]) or 0), str(kv[0])))
            out.append("<h3>Quarantine reasons</h3>" + hk.table(["reason", "documents"], [(k, hk.cell(v)) for k, v in rows]))
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
        out.append(hk.not_measured("debt not scored"))
        out.append("</section>")
        return "".join(out)
    dims = {str(k): hk.as_dict(v) for k, v in hk.as_dict(debt.get("dimensions")).items()}

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
    out.append(f'<div class="overall"><div class="score">{hk.esc(hk.num(overall, 2))}</div><div>'
               f'<div>overall debt score (0 = none, 1 = severe)</div>{hk.meter(overall, high=0.5)}'
               f'<div class="note">{hk.esc(status)}</div></div></div>')
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
                vt.append(f"value {hk.esc(hk.num(dim.get('value')))}")
            if dim.get("threshold") is not None:
                vt.append(f"threshold {hk.esc(hk.num(dim.get('threshold')))}")
            cards.append(
                f'<div class="dim{cls}">'
                f'<div><span class="name">{hk.esc(name)}</span> {badge}'
                f'<span class="score">{hk.esc(hk.num(dim.get("score"), 2))}</span></div>{hk.meter(dim.get("score"))}'
                + (f'<div class="note">{" · ".join(vt)}</div>' if vt else "")
                + (f'<div class="summary">{hk.esc(dim.get("summary"))}</div>' if dim.get("summary") else "")
                + "</div>")
        out.append(f'<div class="dims">{"".join(cards)}</div>')
    findings = [f for f in hk.as_list(debt.get("findings")) if isinstance(f, dict)]
    out.append("<h3>Findings</h3>")
    if findings:
        items = []
        for f in sorted(findings, key=_severity_key):  # stable: producer order within a severity
            sev = f.get("severity") or "info"
            subject = f' \u2014 <code>{hk.esc(f.get("subject"))}</code>' if f.get("subject") not in (None, "") else ""
            dim = f'<strong>{hk.esc(f.get("dimension"))}</strong>: ' if f.get("dimension") else ""
            items.append(f'<li><span class="badge {_sev_class(sev)}">{hk.esc(sev)}</span> {dim}{hk.esc(f.get("message"))}'
                         f"{subject}</li>")
        out.append(f'<ol class="findings">{"".join(items)}</ol>')
    else:
        out.append('<p class="note">no findings</p>')
    out.append("</section>")
    return "".join(out)


# --------------------------------------------------------------------------------------------
# measure sections


















@dataclass(frozen=True)
class SectionView:
    """How one report.json section is shown: its key, its title and its renderer
    ``render(section_dict, ctx) -> html`` (built from :mod:`curadebt.report.htmlkit`; every measure
    registers one, see :mod:`curadebt.measures.registry`)."""

    name: str
    title: str
    render: Callable[[dict, hk.RenderContext], str] | None = None


#: report.json keys that are not measure sections
RESERVED_KEYS = ("schema_version", "tool", "config", "corpus", "debt")


def render_generic(sec: dict, ctx: hk.RenderContext) -> str:
    """A section without a renderer of its own (a measure from a plugin this installation lacks):
    its scalar fields as a table, the whole section as JSON below."""
    rows = [(k, hk.cell(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
            for k, v in sec.items() if v is None or isinstance(v, (str, int, float, bool))]
    full = json.dumps(sec, indent=2, ensure_ascii=False, default=str)
    return (hk.table(["field", "value"], rows) if rows else "") + \
        f"<details><summary>section data</summary><pre>{hk.esc(full)}</pre></details>"


def render_section(view: SectionView, sec: Any) -> str:
    """One measure section of the page from its report.json section (a dict; anything else shows
    "not measured"). Its figures' ids are scoped by the section's name, so sections may be drawn
    apart (an engine's workers draw them side by side) and give the same page."""
    return _render_section(view, sec, hk.RenderContext(f"{_id_scope(view.name)}-"))


def _id_scope(name: str) -> str:
    return "s" + re.sub(r"[^A-Za-z0-9_-]", "_", name)


def _render_section(view: SectionView, sec: Any, ctx: hk.RenderContext) -> str:
    body: str
    name = view.name
    if not isinstance(sec, dict) or not sec:
        body = hk.not_measured()
    else:
        try:
            body = (view.render or render_generic)(sec, ctx)
        except Exception as exc:  # one malformed section must not take the whole report down
            warnings.warn(f"curadebt report: section {name!r} failed to render: {exc!r}", RuntimeWarning, stacklevel=2)
            body = f'<div class="render-error">could not render this section: {hk.esc(type(exc).__name__)}: {hk.esc(exc)}</div>'
    return f'<section id="sec-{hk.esc(name)}" class="measure"><h2>{hk.esc(view.title)}</h2>{body}</section>'


# --------------------------------------------------------------------------------------------
# page


def render_report_html(report: dict, sections: Sequence[SectionView] = (), title: str | None = None,
                       extra_sections: list[tuple[str, str]] | None = None, skip: Sequence[str] = (),
                       drawn: Mapping[str, str] | None = None) -> str:
    """Render a report.json dict (see docs/report-schema.md) as one self-contained HTML page.

    ``sections``: the measure sections in page order (:func:`curadebt.measures.registry.section_views`
    gives the registered ones; :func:`curadebt.measures.registry.render_report` calls this with them);
    any other section the report holds is shown by :func:`render_generic` after them, except the
    keys in ``skip`` (those an extra section shows).

    ``extra_sections``: ``[(title, html_fragment), ...]`` appended after the measures (e.g. curate
    before/after, lab results). The title is escaped; the fragment is inserted as is, so it must be
    built from escaped text and must not load anything (no script, no remote URL: the page's
    Content-Security-Policy blocks both anyway).

    ``drawn``: sections already rendered by :func:`render_section` (by name), e.g. by workers.
    """
    report = report if isinstance(report, dict) else {}
    title = title or "Data curation debt report"
    drawn = drawn or {}
    parts = [_render_header(report, title), _render_debt(report)]
    known = {v.name for v in sections}
    views = list(sections) + [SectionView(k, k.replace("_", " ").capitalize()) for k, v in report.items()
                              if k not in known and k not in RESERVED_KEYS and k not in skip
                              and isinstance(v, dict)]
    for view in views:
        parts.append(drawn[view.name] if view.name in drawn else render_section(view, report.get(view.name)))
    toc = [("#corpus", "Corpus"), ("#debt-summary", "Debt")] + [(f"#sec-{v.name}", v.title) for v in views]
    for i, (sec_title, fragment) in enumerate(extra_sections or []):
        anchor = f"extra-{i + 1}"
        parts.append(f'<section id="{anchor}" class="extra"><h2>{hk.esc(sec_title)}</h2>{fragment}</section>')
        toc.append((f"#{anchor}", str(sec_title)))
    nav = '<nav class="toc">' + "".join(f'<a href="{hk.esc(a)}">{hk.esc(t)}</a>' for a, t in toc) + "</nav>"
    config = report.get("config")
    if isinstance(config, dict) and config:
        cfg = json.dumps(config, indent=2, ensure_ascii=False, sort_keys=False, default=str)
        parts.append(f"<details><summary>Run configuration</summary><pre>{hk.esc(cfg)}</pre></details>")
    tool = hk.as_dict(report.get("tool"))
    parts.append(f"<footer>{hk.esc(tool.get('name') or 'curadebt')} {hk.esc(tool.get('version') or '')} \u00b7 "
                 "self-contained report: no scripts, no network</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{hk.esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            + parts[0] + "\n" + nav + "\n" + "\n".join(parts[1:]) + "\n</main>\n</body>\n</html>\n")


def render_page(title: str, sections: list[tuple[str, str]], meta: str = "") -> str:
    """A self-contained page in the report's style (same CSS and Content-Security-Policy) holding only
    ``sections`` (``[(title, html_fragment), ...]``; titles and ``meta`` are escaped, fragments are
    inserted as is, as in :func:`render_report_html`). Used for lab results without an audit report."""
    head = f'<header class="top"><h1>{hk.esc(title)}</h1>' + (f'<p class="meta">{hk.esc(meta)}</p>' if meta else "") + "</header>"
    body = [f'<section id="extra-{i + 1}" class="extra"><h2>{hk.esc(t)}</h2>{frag}</section>'
            for i, (t, frag) in enumerate(sections)]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{hk.esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            + head + "\n" + "\n".join(body) + "\n<footer>curadebt \u00b7 self-contained page: no scripts, no network"
            "</footer>\n</main>\n</body>\n</html>\n")
