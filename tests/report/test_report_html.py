"""HTML report, SVG plots and atomic writers: rendering, robustness, escaping, determinism, offline."""
from __future__ import annotations

import dataclasses

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

from curadebt.report import html as report_html
from curadebt.report import plots
from curadebt.measures.registry import MEASURES, section_names
from curadebt.measures.registry import render_report as render_report_html
from curadebt.core.atomic import dumps_json, write_json_atomic, write_text_atomic

FIXTURE = Path(__file__).parent / "fixtures" / "sample_report.json"
PAYLOAD = "<script>alert(1)</script> & \"q\" 'a' $x$ <img src=x onerror=alert(2)>"
SECTIONS = section_names()


@pytest.fixture(scope="module")
def sample() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sample_html(sample) -> str:
    return render_report_html(sample)


# --------------------------------------------------------------------------------------------
# helpers

ALLOWED_TAGS = {
    # page
    "html", "head", "meta", "title", "style", "body", "main", "nav", "a", "header", "footer", "section", "h1", "h2",
    "h3", "p", "div", "span", "strong", "code", "pre", "ol", "ul", "li", "table", "thead", "tbody", "tr", "th", "td",
    "figure", "figcaption", "details", "summary",
    # matplotlib SVG
    "svg", "g", "path", "defs", "clippath", "use", "text", "rect",
}


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.svg_text: list[str] = []
        self._in_svg_text = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "text":
            self._in_svg_text += 1

    def handle_endtag(self, tag):
        if tag == "text":
            self._in_svg_text -= 1

    def handle_data(self, data):
        if self._in_svg_text:
            self.svg_text.append(data)


def parse(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    p.close()
    return p


def section_html(page: str, name: str) -> str:
    m = re.search(rf'<section id="sec-{name}"[^>]*>(.*?)</section>', page, re.S)
    assert m, f"section {name} missing"
    return m.group(1)


def poison(obj, payload: str = PAYLOAD):
    """Append the payload to every string (dict keys included) in a report."""
    if isinstance(obj, dict):
        return {(k + payload if isinstance(k, str) else k): poison(v, payload) for k, v in obj.items()}
    if isinstance(obj, list):
        return [poison(v, payload) for v in obj]
    if isinstance(obj, str):
        return obj + payload
    return obj


def hostile_report(sample: dict, payload: str = PAYLOAD) -> dict:
    """Payload in realistic places only (entity names, n-grams, ids, sources, probes, findings)."""
    r = copy.deepcopy(sample)
    r["corpus"]["quarantine_reasons"][payload] = 2
    r["corpus"]["files"] = ["data/part-0.jsonl", payload]
    r["frequency"]["ngrams"]["1"]["top"][0][0] = payload
    r["frequency"]["ngrams"]["2"]["top"][0][0] = "Tom " + payload
    dup = r["duplicates"]
    dup["largest_clusters"][0]["representative"] = payload
    dup["largest_clusters"][0]["example_ids"][1] = payload
    dup["largest_clusters"][0]["kind"] = payload
    sal = r["salience"]
    sal["entities"][0]["entity"] = payload
    sal["entities"][1]["entity"] = "Procter & \"Gamble\" $5$"
    sal["spillover"][0]["token"] = payload
    sal["spillover"][0]["entity"] = payload
    for s in r["mixture"]["sources"][:2]:
        s["source"] = payload + s["source"]
    r["mixture"]["top_source"] = payload
    r["mixture"]["field"] = payload
    for s in r["order"]["sources"][:2]:
        s["source"] = payload + s["source"]
    r["order"]["entities"][0]["entity"] = payload
    r["order"]["max_concentration_item"] = payload
    r["order"]["windows"][0]["source_shares"] = {payload: 1.0}
    p = r["probes"]["probes"][0]
    p["id"], p["subject"], p["top_answer"] = payload, payload, payload
    p["answers"][0]["answer"] = payload
    debt = r["debt"]
    debt["dimensions"][payload] = {"score": 0.5, "value": 1, "threshold": 2, "is_debt": True, "summary": payload}
    debt["findings"].append({"dimension": payload, "severity": payload, "message": payload, "subject": payload})
    r["config"]["probes"] = payload
    return r


def assert_no_active_content(page: str) -> None:
    low = page.lower()
    assert "<script" not in low
    assert "<img" not in low
    assert "<iframe" not in low and "<object" not in low and "<embed" not in low
    assert "javascript:" not in low
    tags = parse(page).tags
    unexpected = {t for t, _ in tags} - ALLOWED_TAGS
    assert not unexpected, f"unexpected elements: {unexpected}"
    for tag, attrs in tags:
        for k, v in attrs.items():
            assert not k.startswith("on"), f"event handler attribute {k} on <{tag}>"
            assert k not in ("src", "srcset", "action", "formaction", "background", "poster")
            if k in ("href", "xlink:href"):
                assert v.startswith("#"), f"<{tag} {k}={v!r}>: only in-page anchors are allowed"


# --------------------------------------------------------------------------------------------
# rendering the sample report


def test_sample_renders_every_section(sample, sample_html):
    page = sample_html
    assert page.startswith("<!DOCTYPE html>")
    assert 'id="debt-summary"' in page
    assert page.index('id="corpus"') < page.index('id="debt-summary"') < page.index('id="sec-frequency"')
    for name in SECTIONS:
        body = section_html(page, name)
        assert "not measured" not in body, name
    assert 'class="render-error"' not in page
    # header: counts reconcile, quarantine reasons, tokens
    assert "read = audited + quarantined: 12,500 = 12,431 + 69" in page
    assert "invalid_json" in page and "1,843,210" in page
    # debt: overall, one card per dimension, findings with severity
    assert len(re.findall(r'<div class="dim( is-debt)?">', page)) == len(sample["debt"]["dimensions"])
    assert "0.55" in page and "6 of 6 measured dimensions in debt" in page
    assert page.count('<span class="badge sev-high">high</span>') == 2
    findings = re.findall(r'<span class="badge sev-(\w+)">', page)
    assert findings == sorted(findings, key=lambda s: ["high", "medium", "low"].index(s))
    # measures
    freq = section_html(page, "frequency")
    assert "Top 3-grams" in freq and "capital of France" in freq and "\u00b137" in freq
    dup = section_html(page, "duplicates")
    assert "web-000412" in dup and "(+1 more)" in dup
    assert "Tom Cruise" in section_html(page, "salience") and "9.41\u00d7" in section_html(page, "salience")
    assert "55.4%" in section_html(page, "mixture")
    order = section_html(page, "order")
    assert "first 1%" in order and "1.55\u00d7 (wiki)" in order and "entity diversity" in order
    probes = section_html(page, "probes")
    assert "16.61\u00d7" in probes and "Barcelona" in probes
    # one plot per chart: rank-frequency, clusters, entities, spillover, mixture, order, probes
    assert page.count("<svg") == 7
    # plain-text tick labels (no mathtext source leaking through)
    assert "mathdefault" not in page and "100k" in page


def test_svg_ids_unique_across_the_page(sample_html):
    ids = re.findall(r'\bid="([^"]+)"', sample_html)
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes
    for ref in re.findall(r'(?:xlink:href="#|url\(#)([^")]+)', sample_html):
        assert ref in ids, f"dangling reference #{ref}"


def test_extra_sections_and_title(sample):
    page = render_report_html(sample, title=f"Audit of {PAYLOAD}",
                              extra_sections=[("Curate: before & after", "<table><tr><td>kept</td></tr></table>"),
                                              (PAYLOAD, "<p>lab</p>")])
    assert '<section id="extra-1" class="extra"><h2>Curate: before &amp; after</h2><table>' in page
    assert '<section id="extra-2" class="extra">' in page and '<a href="#extra-2">' in page
    assert page.index('id="sec-probes"') < page.index('id="extra-1"')
    assert_no_active_content(page)
    assert "<title>Audit of &lt;script&gt;" in page


# --------------------------------------------------------------------------------------------
# missing, empty and malformed sections


@pytest.mark.parametrize("name", SECTIONS)
def test_missing_section_shows_not_measured(sample, name):
    r = copy.deepcopy(sample)
    del r[name]
    page = render_report_html(r)
    assert '<p class="not-measured">not measured</p>' in section_html(page, name)
    for other in SECTIONS:
        if other != name:
            assert "not measured" not in section_html(page, other)
    assert 'class="render-error"' not in page


@pytest.mark.parametrize("value", [None, {}, ["not", "a", "dict"], "junk", 0])
def test_unusable_sections_show_not_measured(sample, value):
    r = copy.deepcopy(sample)
    for name in SECTIONS:
        r[name] = value
    page = render_report_html(r)
    for name in SECTIONS:
        assert '<p class="not-measured">not measured</p>' in section_html(page, name)
    assert 'id="debt-summary"' in page and "12,431" in page
    assert 'class="render-error"' not in page


def test_empty_and_minimal_reports():
    for report in ({}, {"schema_version": 1}, {"corpus": None, "debt": None}, None):
        page = render_report_html(report)  # type: ignore[arg-type]
        assert 'id="debt-summary"' in page
        assert page.count('<p class="not-measured">not measured</p>') == len(SECTIONS)
        assert "debt not scored" in page and "corpus counts not recorded" in page
        assert 'class="render-error"' not in page


def test_partial_and_odd_values_do_not_break(sample):
    r = copy.deepcopy(sample)
    r["frequency"]["ngrams"]["1"] = {"total": 10}                     # almost nothing
    r["frequency"]["ngrams"]["2"]["top"] = [["only-one-field"], "junk", ["ok", 3]]
    r["frequency"]["ngrams"]["3"]["rank_frequency"] = [[0, 5], [1, None], [2, float("nan")], [3, 1]]
    r["duplicates"] = {"exact_clusters": 0, "cluster_size_distribution": {"exact": {}, "near": {}}}
    r["salience"]["entities"][0]["mention_share"] = None
    r["salience"]["spillover"] = []
    r["mixture"]["sources"] = [{"source": None}]
    r["order"] = {"windows": [{"fraction": 0.01}], "sources": [{"name": "web", "overall_share": 0.5}]}
    r["probes"]["probes"][0]["dominance_ratio"] = None
    r["probes"]["probes"][0]["runner_up"] = None
    r["probes"]["probes"][1]["answers"] = []
    r["debt"]["dimensions"]["frequency"] = {"score": None}
    r["debt"]["dimensions"]["order"] = {"score": None, "value": None, "threshold": None, "is_debt": None,
                                        "summary": "not measured: no order section in the report", "measured": False}
    r["debt"]["findings"] = [{"message": "no severity"}, "junk"]
    r["corpus"]["documents_read"] = 12501                           # does not reconcile
    r["corpus"]["files"] = ["a.jsonl", "b.jsonl.zst"]               # the runner lists names
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        page = render_report_html(r)
    assert 'class="render-error"' not in page
    assert "counts do not reconcile" in page
    assert "<summary>2 input files</summary>" in page and "<code>b.jsonl.zst</code>" in page
    assert "no runner-up" in page
    assert page.count('<div class="dim not-measured">') == 2
    assert "4 of 4 measured dimensions in debt (2 not measured)" in page
    assert "no duplicate clusters" in page
    assert "<code>web</code>" in section_html(page, "order")  # order items named "name" (audit/order.py)


def test_broken_section_renderer_is_contained(sample, monkeypatch):
    def boom(sec, ctx):
        raise RuntimeError("<b>bad</b>")

    spec = dataclasses.replace(MEASURES.get("mixture"), render=boom)
    with MEASURES.overridden("mixture", spec), pytest.warns(RuntimeWarning, match="mixture"):
        page = render_report_html(sample)
    body = section_html(page, "mixture")
    assert 'class="render-error"' in body and "&lt;b&gt;bad&lt;/b&gt;" in body
    assert "Tom Cruise" in section_html(page, "salience")  # the rest still renders


def test_broken_plot_keeps_tables(sample, monkeypatch):
    def boom(*a, **k):
        raise ValueError("no plot")

    monkeypatch.setattr(plots, "bar_svg", boom)
    with pytest.warns(RuntimeWarning, match="plot failed"):
        page = render_report_html(sample)
    sal = section_html(page, "salience")
    assert "plot failed" in sal and "<td><code>Tom Cruise</code></td>" in sal


# --------------------------------------------------------------------------------------------
# escaping


def test_corpus_text_is_escaped_in_html_and_svg(sample):
    page = render_report_html(hostile_report(sample))
    assert_no_active_content(page)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#x27;a&#x27; $x$"
    for name in SECTIONS:
        assert escaped in section_html(page, name), name
    assert escaped in page[: page.index('id="sec-frequency"')]  # header + debt summary (findings, dims)
    # inside the SVGs: matplotlib escapes <, >, & and the text survives literally (no mathtext)
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in s for s in svgs)
    svg_text = "".join(t for s in svgs for t in parse(s).svg_text)
    assert "<script>alert(1)</script>" in svg_text  # as text content, after entity decoding
    assert "Procter & \"Gamble\" $5$" in svg_text      # `$..$` not interpreted as mathtext
    assert "\\$" not in svg_text


def test_every_string_poisoned(sample):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        page = render_report_html(poison(sample), title=PAYLOAD, extra_sections=[(PAYLOAD, "<p>ok</p>")])
    assert_no_active_content(page)
    assert 'class="render-error"' not in page


def test_control_characters_and_surrogates(sample):
    r = copy.deepcopy(sample)
    r["salience"]["entities"][0]["entity"] = "bad\x00\x1b\udc80name"
    page = render_report_html(r)
    page.encode("utf-8")  # writable as UTF-8
    assert "\x00" not in page and "\x1b" not in page
    assert "bad\\x00\\x1b?name" in page


def test_short_label():
    assert plots.short_label("a\nb\tc") == "a b c"
    assert plots.short_label("x" * 50, 10) == "x" * 9 + "\u2026"
    assert plots.short_label(None) == ""


# --------------------------------------------------------------------------------------------
# offline and deterministic


def test_no_external_resources(sample_html, sample):
    for page in (sample_html, render_report_html(hostile_report(sample))):
        assert "http://" not in page and "https://" not in page
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*//""", page)
        assert "@import" not in page and "@font-face" not in page
        assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", page))
        assert "Content-Security-Policy" in page and "default-src 'none'" in page
        assert_no_active_content(page)


def test_deterministic_in_process(sample, sample_html):
    assert render_report_html(sample) == sample_html
    for fn, args in [(plots.bar_svg, (["a", "b"], [0.5, 0.25])),
                     (plots.rank_frequency_svg, ({"1": [[1, 100], [10, 9]]},)),
                     (plots.cluster_size_svg, ({"exact": {"2": 3, "40": 1}},)),
                     (plots.stacked_share_svg, (["p"], [[("x", 0.6), ("y", 0.4)]])),
                     (plots.grouped_bar_svg, (["s"], {"a": [0.1], "b": [0.2]}))]:
        a, b = fn(*args), fn(*args)
        assert a == b
        assert "<metadata" not in a and "<dc:date" not in a.lower() and "<?xml" not in a and "<!--" not in a


def test_deterministic_across_processes(sample_html):
    code = ("import json,sys,hashlib;from curadebt.measures.registry import render_report as render_report_html;"
            f"h=render_report_html(json.load(open({str(FIXTURE)!r},encoding='utf-8')));"
            "sys.stdout.write(hashlib.sha256(h.encode()).hexdigest())")
    env = dict(os.environ, PYTHONHASHSEED="12345", MPLBACKEND="svg")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == hashlib.sha256(sample_html.encode()).hexdigest()


def test_render_is_fast(sample):
    t0 = time.process_time()  # CPU time: a busy CI machine does not make it flaky
    render_report_html(sample)
    assert time.process_time() - t0 < 3.0


def test_scope_svg_ids_rejects_unsafe_prefix():
    with pytest.raises(ValueError):
        plots.scope_svg_ids("<svg/>", 'x" onload="alert(1)')
    svg = '<g id="a"/><use xlink:href="#a"/><path clip-path="url(#a)"/>'
    assert plots.scope_svg_ids(svg, "f1") == '<g id="f1-a"/><use xlink:href="#f1-a"/><path clip-path="url(#f1-a)"/>'


# --------------------------------------------------------------------------------------------
# writers


def test_write_json_atomic_is_strict_and_deterministic(tmp_path):
    obj = {"b": 1, "a": {"z": float("nan"), "y": (1, 2.5)}, "é": "ü\udc80", "inf": float("-inf")}
    p1 = write_json_atomic(tmp_path / "sub" / "r1.json", obj)
    p2 = write_json_atomic(tmp_path / "r2.json", copy.deepcopy(obj))
    data = p1.read_bytes()
    assert data == p2.read_bytes()
    assert data.decode("utf-8") == dumps_json(obj).replace("\udc80", "\\udc80")
    text = data.decode("utf-8")
    assert "NaN" not in text and "Infinity" not in text and "é" in text
    loaded = json.loads(text)
    assert list(loaded) == ["b", "a", "é", "inf"]  # insertion order kept, not sorted
    assert loaded["a"] == {"z": None, "y": [1, 2.5]} and loaded["inf"] is None
    assert text.startswith('{\n  "b": 1,') and text.endswith("}\n")


def test_write_json_numpy(tmp_path):
    np = pytest.importorskip("numpy")
    p = write_json_atomic(tmp_path / "n.json", {"a": np.int64(3), "b": np.float32(0.5), "c": np.arange(2),
                                                "d": np.float64("nan")})
    assert json.loads(p.read_text()) == {"a": 3, "b": 0.5, "c": [0, 1], "d": None}
    with pytest.raises(TypeError):
        write_json_atomic(tmp_path / "bad.json", {"x": object()})
    assert not (tmp_path / "bad.json").exists()


def test_write_text_atomic_replaces_and_cleans_up(tmp_path, monkeypatch):
    p = tmp_path / "report.html"
    write_text_atomic(p, "old")
    write_text_atomic(p, "new\r\nline ü")
    assert p.read_bytes() == "new\r\nline ü".encode()  # no newline translation
    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask

    def fail(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_text_atomic(p, "half")
    assert p.read_bytes() == "new\r\nline ü".encode()  # the old file is untouched
    assert sorted(x.name for x in tmp_path.iterdir()) == ["report.html"]  # no temp file left


def test_report_round_trip_through_writer(tmp_path, sample):
    p = write_json_atomic(tmp_path / "report.json", sample)
    assert json.loads(p.read_text(encoding="utf-8")) == sample
    h = write_text_atomic(tmp_path / "report.html", render_report_html(sample))
    assert h.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# --------------------------------------------------------------------------------------------
# a real browser (CI must install chromium: `apt-get install -y chromium`)


def _chromium() -> str | None:
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed (apt-get install -y chromium)")
def test_headless_browser_renders_without_running_corpus_scripts(sample, tmp_path):
    marker = "data-pwned"
    payload = (f"<script>document.body.setAttribute('{marker}','script')</script>"
               f"<img src=x onerror=\"document.body.setAttribute('{marker}','img')\">"
               f"<svg onload=\"document.body.setAttribute('{marker}','svg')\"></svg> & \"q\"")
    page = render_report_html(hostile_report(sample, payload))
    # drop the CSP guard so that this test checks the escaping itself, not the policy
    page, n = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n', "", page)
    assert n == 1
    path = write_text_atomic(tmp_path / "report.html", page)
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", "--disable-extensions", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.resolve().as_uri()]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.skip("chromium did not finish within 90 s")
    dom = out.stdout
    if out.returncode != 0 or "<html" not in dom:
        pytest.skip(f"chromium could not run here (rc={out.returncode}): {out.stderr[-300:]}")
    assert 'id="debt-summary"' in dom and 'id="sec-probes"' in dom
    assert dom.count("<svg") == 7
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert marker not in body, "a script from corpus text ran"
    low = dom.lower()
    assert "<script" not in low and "<img" not in low and "<svg onload" not in low
    assert "&lt;script&gt;document.body.setAttribute" in dom  # shown as text
