"""Self-contained HTML view of a trace: the text with its spans highlighted; click a span to see
the documents it occurs in.

Everything is rendered on the server side with :func:`html.escape` (corpus text, document ids,
sources, the traced text and the prompt); the inline script only toggles visibility, it never
builds HTML from data. A Content-Security-Policy forbids every load (no CDN, no network): the
page works from a file, offline.
"""
from __future__ import annotations

import html
from typing import Iterable

from curadebt.trace.results import DocHit, Span, SpansResult

CSS = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{padding:14px 22px;background:#233044;color:#fff}
header h1{font-size:18px;margin:0 0 4px}
header .meta{font-size:13px;opacity:.85}
main{display:flex;gap:18px;padding:18px 22px;align-items:flex-start}
#left{flex:1 1 55%;min-width:0}
#panel{flex:1 1 45%;min-width:0;position:sticky;top:10px;max-height:calc(100vh - 20px);overflow:auto;
  background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px 16px}
.box{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px 16px;margin-bottom:14px}
.box h2{font-size:14px;margin:0 0 6px;color:#555;text-transform:uppercase;letter-spacing:.04em}
.traced,.prompt{white-space:pre-wrap;word-wrap:break-word;margin:0;font:15px/1.7 ui-monospace,Menlo,Consolas,monospace}
.seg{cursor:pointer;border-radius:3px;background:rgba(255,190,40,.35)}
.seg.d2{background:rgba(255,150,20,.5)}
.seg.d3{background:rgba(245,110,10,.6)}
.seg.inprompt{background:rgba(120,160,255,.35)}
.seg:hover,.seg:focus{outline:2px solid #c55a00}
.seg.selected{outline:2px solid #233044;background:rgba(255,120,0,.7)}
table.spans{border-collapse:collapse;width:100%;font-size:13px}
table.spans td,table.spans th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}
table.spans tr.spanrow{cursor:pointer}
table.spans tr.spanrow:hover{background:#fff4e0}
.span-docs h3{font-size:15px;margin:4px 0}
.span-docs .stats{font-size:12px;color:#555;margin-bottom:8px}
.span-docs ol{padding-left:20px;margin:0}
.span-docs li{margin-bottom:10px}
.doc-id{font-weight:600}
.doc-src{font-size:12px;color:#fff;background:#6b7a90;border-radius:3px;padding:0 5px;margin-left:6px}
.snippet{font:13px/1.5 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-wrap:break-word;
  background:#f5f5f7;border-radius:4px;padding:6px 8px;margin-top:3px}
.snippet mark{background:#ffd27a}
.curation{font-size:13px;margin-top:3px}
.curation.dropped strong{color:#b3261e}
.curation.kept strong{color:#1e6b34}
.muted{color:#777;font-size:13px}
"""

SCRIPT = """
(function(){
  var panels = document.querySelectorAll('.span-docs');
  function show(ids, el){
    var want = {};
    ids.forEach(function(i){ want['docs-' + i] = true; });
    panels.forEach(function(p){ p.hidden = !want[p.id]; });
    document.getElementById('panel-empty').hidden = ids.length > 0;
    document.querySelectorAll('.selected').forEach(function(s){ s.classList.remove('selected'); });
    if (el) el.classList.add('selected');
    var panel = document.getElementById('panel');
    panel.setAttribute('data-showing', ids.join(' '));
  }
  function handler(ev){
    var el = ev.target.closest('[data-spans]');
    if (!el) return;
    var ids = el.getAttribute('data-spans').split(' ').filter(function(s){ return s.length; });
    show(ids, el);
  }
  document.addEventListener('click', handler);
  document.addEventListener('keydown', function(ev){
    if (ev.key === 'Enter' || ev.key === ' ') { handler(ev); }
  });
})();
"""


def _e(s: object) -> str:
    return html.escape("" if s is None else str(s), quote=True)


def _segments(text: str, spans: list[Span]) -> Iterable[tuple[int, int, list[int]]]:
    """Split ``text`` at every span boundary: (start, end, indices of the spans covering it)."""
    cuts = {0, len(text)}
    for s in spans:
        cuts.add(s.char_start)
        cuts.add(s.char_end)
    bounds = sorted(c for c in cuts if 0 <= c <= len(text))
    for a, b in zip(bounds, bounds[1:]):
        if b > a:
            yield a, b, [i for i, s in enumerate(spans) if s.char_start <= a and b <= s.char_end]


def _doc_html(d: DocHit, curation: dict | None = None) -> str:
    snip = d.snippet
    ms, me = d.match_start, d.match_end
    src = f'<span class="doc-src">{_e(d.source)}</span>' if d.source else ""
    cur = ""
    if curation is not None:
        c = curation.get(d.id)
        if c is None:
            cur = '<div class="curation muted">not in the ledger</div>'
        else:
            cur = (f'<div class="curation {_e(c["decision"])}"><strong>{_e(c["label"])}</strong>: {_e(c["reason"])} '
                   f'<code>{_e(c["explain"])}</code></div>')
    return (f'<li><span class="doc-id">{_e(d.id)}</span>{src} '
            f'<span class="muted">doc #{d.index}, {d.count} occurrence{"s" if d.count != 1 else ""}</span>'
            f'<div class="snippet">{_e(snip[:ms])}<mark>{_e(snip[ms:me])}</mark>{_e(snip[me:])}</div>{cur}</li>')


def render_trace_html(result: SpansResult, prompt: str | None = None, title: str = "curadebt trace",
                      curation: dict | None = None) -> str:
    """The traced text with its spans; ``curation`` (document id -> {decision, label, reason,
    explain}) adds each document's curate decision and the ``curadebt explain`` command for it."""
    spans = result.spans
    text = result.text
    parts = []
    for a, b, cover in _segments(text, spans):
        chunk = _e(text[a:b])
        if not cover:
            parts.append(chunk)
            continue
        depth = min(len(cover), 3)
        cls = "seg" + (f" d{depth}" if depth > 1 else "")
        if all(spans[i].in_prompt for i in cover):
            cls += " inprompt"
        ids = " ".join(str(i) for i in cover)
        parts.append(f'<span class="{cls}" data-spans="{ids}" tabindex="0" '
                     f'title="{len(cover)} span{"s" if len(cover) > 1 else ""}: click for documents">{chunk}</span>')
    traced = "".join(parts)

    rows, panels = [], []
    for i, s in enumerate(spans):
        prob = f"10<sup>{s.log10_unigram_prob:.1f}</sup>"
        flag = ' <span class="muted">(also in the prompt)</span>' if s.in_prompt else ""
        rows.append(f'<tr class="spanrow" data-spans="{i}" id="row-{i}"><td>{i + 1}</td><td>{_e(s.text)}{flag}</td>'
                    f'<td>{s.length}</td><td>{s.count:,}</td><td>{s.n_documents:,}</td><td>{prob}</td></tr>')
        docs = "".join(_doc_html(d, curation) for d in s.documents)
        more = (f'<p class="muted">showing {len(s.documents)} of {s.n_documents:,} documents (most occurrences first)</p>'
                if s.n_documents > len(s.documents) else "")
        panels.append(f'<div class="span-docs" id="docs-{i}" hidden><h3>“{_e(s.text)}”</h3>'
                      f'<div class="stats">{s.length} tokens · {s.count:,} occurrences in {s.n_documents:,} documents · '
                      f'span unigram probability {prob}{" · also in the prompt" if s.in_prompt else ""}</div>'
                      f'<ol>{docs}</ol>{more}</div>')
    p = {k: ("none" if v is None else v) for k, v in result.params.items()}
    meta = (f'{len(spans)} span{"s" if len(spans) != 1 else ""} kept ({len(result.filtered)} maximal spans filtered out) · '
            f'{result.n_tokens:,} tokens traced · index {_e(p.get("index"))}: {int(p.get("index_documents", 0)):,} documents, '
            f'{int(p.get("index_tokens", 0)):,} tokens, tokenizer {_e(p.get("tokenizer"))} · '
            f'min_len={_e(p.get("min_len"))}, max_count={_e(p.get("max_count"))}, '
            f'max_unigram_prob={_e(p.get("max_unigram_prob"))}, top_fraction={_e(p.get("top_fraction"))}')
    prompt_box = (f'<div class="box" id="prompt-box"><h2>Prompt</h2><pre class="prompt">{_e(prompt)}</pre></div>'
                  if prompt else "")
    table = ('<table class="spans"><thead><tr><th>#</th><th>span</th><th>tokens</th><th>count</th><th>docs</th>'
             f'<th>unigram p</th></tr></thead><tbody>{"".join(rows)}</tbody></table>' if rows
             else '<p class="muted">No span of this text passed the filters.</p>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{CSS}</style></head>
<body>
<header><h1>{_e(title)}</h1><div class="meta">{meta}</div></header>
<main>
<div id="left">
{prompt_box}
<div class="box"><h2>Traced text</h2><pre class="traced" id="traced">{traced}</pre></div>
<div class="box"><h2>Spans found verbatim in the corpus</h2>{table}</div>
</div>
<aside id="panel" data-showing=""><p id="panel-empty" class="muted">Click a highlighted span to see the documents it occurs in.</p>
{"".join(panels)}
</aside>
</main>
<script>{SCRIPT}</script>
</body></html>
"""
