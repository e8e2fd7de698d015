"""The trace HTML view: self-contained, corpus text escaped, and clicking a span shows its
documents. The browser check drives headless Chromium over the DevTools protocol (a real mouse
click through Input.dispatchMouseEvent); it skips where /usr/bin/chromium is not installed."""
from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from curadebt.corpus import Document
from curadebt.trace.build import build_index_from_documents
from curadebt.trace.html import render_trace_html
from curadebt.trace.index import TokenIndex

CHROMIUM = Path("/usr/bin/chromium")

EVIL = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> & "quotes" </pre></aside>'
CORPUS = [
    "the cat sat on the mat and purred " + EVIL,
    "a dog sat on the log today",
    "Tom <b>Cruise</b> sat on the mat",
]


@pytest.fixture
def traced(tmp_path):
    docs = [Document(id=f"doc<{i}>", text=t, ordinal=i, source="src&<i>") for i, t in enumerate(CORPUS)]
    build_index_from_documents(docs, tmp_path / "idx")
    idx = TokenIndex.open(tmp_path / "idx")
    text = "Yesterday the cat sat on the log today and purred script window pwned 1 while <b>bold</b> text"
    res = idx.maximal_spans(text, min_len=2, max_unigram_prob=None)
    curation = {"doc<1>": {"decision": "dropped", "label": "dropped by exact_dedup", "reason": "exact copy of <x>",
                           "explain": "curadebt explain doc<1> --ledger l"},
                "doc<2>": {"decision": "kept", "label": "kept x2", "reason": "kept", "explain": "curadebt explain doc<2>"}}
    html = render_trace_html(res, prompt="Tell me about <cats> & dogs", curation=curation)
    out = tmp_path / "trace.html"
    out.write_text(html, encoding="utf-8")
    return res, html, out


def test_html_is_self_contained_and_escaped(traced):
    res, html, _ = traced
    assert len(res.spans) >= 3
    # no network: no external URL anywhere, and a CSP that forbids loading anything
    assert "http://" not in html and "https://" not in html and "src=" not in html.replace('src=x', '')
    assert "default-src 'none'" in html
    # every piece of corpus text is escaped: the raw markup never appears, the escaped one does
    assert "<script>window.pwned" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert "doc&lt;0&gt;" in html and "src&amp;&lt;i&gt;" in html
    assert "&lt;cats&gt; &amp; dogs" in html
    assert "exact copy of &lt;x&gt;" in html and "not in the ledger" in html  # doc<0> has no ledger row
    assert html.count("<script>") == 1  # our own inline script only


class CDP:
    """Minimal Chrome DevTools Protocol client over --remote-debugging-pipe (fds 3 and 4)."""

    def __init__(self, url: str, user_data_dir: Path):
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def child_fds():  # put the pipe ends on fds 3 (commands in) and 4 (replies out)
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", f"--user-data-dir={user_data_dir}",
                 "--remote-debugging-pipe", "--window-size=1200,900"]
        self.proc = subprocess.Popen([str(CHROMIUM), *flags, url], preexec_fn=child_fds,
                                     close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 20.0) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError(method)
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self._buf += chunk

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._w)
        os.close(self._r)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs headless Chromium at /usr/bin/chromium (apt-get install chromium)")
def test_click_a_span_shows_its_documents_in_chromium(traced, tmp_path):
    res, _, out = traced
    cdp = CDP("about:blank", tmp_path / "chrome-profile")
    try:
        targets = cdp.send("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        session = cdp.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        cdp.send("Page.enable", session=session)
        cdp.send("Page.navigate", {"url": out.as_uri()}, session=session)

        def js(expr: str):
            r = cdp.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=session)
            return r["result"].get("value")

        deadline = time.time() + 20
        while js("document.readyState") != "complete" or not js("!!document.querySelector('.seg')"):
            assert time.time() < deadline, "page did not load"
            time.sleep(0.1)
        # nothing injected by corpus text ran or became an element
        assert js("window.pwned === undefined") is True
        assert js("document.querySelectorAll('img, b').length") == 0
        assert js("document.querySelectorAll('script').length") == 1
        # before any click: no document panel is visible
        assert js("Array.from(document.querySelectorAll('.span-docs')).filter(p => !p.hidden).length") == 0
        # find the highlighted segment covering only the span "sat on the log today" and click it
        target = [i for i, s in enumerate(res.spans) if s.text == "sat on the log today"][0]
        rect = js(f"""(function(){{
            var el = Array.from(document.querySelectorAll('.seg')).find(e => e.getAttribute('data-spans') === '{target}');
            el.scrollIntoView(); var r = el.getBoundingClientRect();
            return {{x: r.left + r.width / 2, y: r.top + r.height / 2}};
        }})()""")
        for kind in ("mousePressed", "mouseReleased"):
            cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": rect["x"], "y": rect["y"], "button": "left",
                                                  "clickCount": 1}, session=session)
        time.sleep(0.2)
        visible = js("Array.from(document.querySelectorAll('.span-docs')).filter(p => !p.hidden).map(p => p.id)")
        assert visible == [f"docs-{target}"]
        panel_text = js(f"document.getElementById('docs-{target}').innerText")
        assert "doc<1>" in panel_text and "a dog sat on the log today" in panel_text
        # its curate decision and the command that explains it are shown with it
        assert "dropped by exact_dedup: exact copy of <x>" in panel_text
        assert "curadebt explain doc<1> --ledger l" in panel_text
        assert js("document.getElementById('panel-empty').hidden") is True
        # a span whose document holds the hostile text shows it as text
        evil = [i for i, s in enumerate(res.spans) if any(d.id == "doc<0>" for d in s.documents)][0]
        rect = js(f"""(function(){{
            var el = document.getElementById('row-{evil}'); el.scrollIntoView(); var r = el.getBoundingClientRect();
            return {{x: r.left + 8, y: r.top + r.height / 2}};
        }})()""")
        for kind in ("mousePressed", "mouseReleased"):
            cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": rect["x"], "y": rect["y"], "button": "left",
                                                  "clickCount": 1}, session=session)
        time.sleep(0.2)
        assert js("Array.from(document.querySelectorAll('.span-docs')).filter(p => !p.hidden).map(p => p.id)") == [f"docs-{evil}"]
        shown = js(f"document.getElementById('docs-{evil}').innerText")
        assert "doc<0>" in shown and "src&<i>" in shown
        assert js("window.pwned === undefined") is True
    finally:
        cdp.close()
