"""The measure registry: a new measure is one file (registered on import) and shows up in the audit's
report.json, its debt and its HTML page; the contract every registered measure keeps."""
from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest

from curadebt.api import audit
from curadebt.measures.registry import MEASURES, dimension_names, section_names, specs
from curadebt.core.config import build
from curadebt.measures.runner import AuditConfig, build_measures
from curadebt.corpus.quarantine import Quarantine
from curadebt.corpus.readers import ReadStats, iter_batches
from curadebt.text.tokenize import get_tokenizer

PLUGIN = '''
from dataclasses import dataclass
from curadebt.core.measure import Measure
from curadebt.measures import scorekit as sk
from curadebt.measures.registry import MeasureSpec, register
from curadebt.report import htmlkit as hk


@dataclass
class ShoutResult:
    documents: int
    shouting: int


class ShoutMeasure(Measure):
    """Documents written in capitals."""
    name = "shouting"

    def empty(self):
        return (0, 0)

    def map(self, batch):
        return (len(batch.docs), sum(1 for d in batch.docs if d.text.isupper()))

    def merge(self, a, b):
        return (a[0] + b[0], a[1] + b[1])

    def finalize(self, state):
        return ShoutResult(*state)


def score(sec, report, t):
    share = sec["shouting"] / max(1, sec["documents"])
    crit = sk.Criterion("shouting_share", share, 0.2, "share")
    found = [sk.finding("shouting", crit.score, f"{sec['shouting']} documents in capitals", "corpus")]
    return sk.dimension([crit], f"{share:.0%} of documents shout"), found


def render(sec, ctx):
    return hk.tiles([("shouting documents", hk.num(sec["shouting"]))])


register(MeasureSpec(name="shouting", title="Shouting", build=lambda cfg: ShoutMeasure(), score=score,
                     render=render, position=70, debt_position=70))
'''


@pytest.fixture
def plugin(tmp_path):
    from conftest import plugin_module

    with plugin_module(tmp_path, "shout_plugin", PLUGIN, MEASURES) as module:
        yield module
    MEASURES.remove("shouting")


def test_a_measure_in_one_file_runs_end_to_end(plugin, tmp_path):
    corpus = tmp_path / "c.jsonl"
    texts = ["HELLO THERE FRIENDS", "a quiet sentence here", "ANOTHER LOUD ONE", "calm words only"]
    corpus.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)))
    report = audit(corpus, tmp_path / "out")
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["shouting"] == {"documents": 4, "shouting": 2}
    assert data["debt"]["dimensions"]["shouting"]["is_debt"] is True
    assert any(f["dimension"] == "shouting" for f in data["debt"]["findings"])
    page = (tmp_path / "out" / "report.html").read_text()
    assert '<section id="sec-shouting"' in page and "shouting documents" in page
    assert report.shouting.shouting == 2
    assert "shouting" in section_names() and "shouting" in dimension_names()


def test_registering_a_name_twice_from_elsewhere_fails(plugin):
    import dataclasses

    from curadebt.measures.registry import register

    with pytest.raises(ValueError, match="registered twice"):
        register(dataclasses.replace(MEASURES.get("frequency"), origin="somewhere.else"))


def test_unknown_section_gets_a_generic_view():
    from curadebt.measures.registry import render_report

    page = render_report({"corpus": {}, "mystery": {"answer": 42, "<b>": "<i>x</i>"}})
    assert '<section id="sec-mystery"' in page and "42" in page and "<i>x</i>" not in page


# ---- the contract every registered streaming measure keeps (map/merge/finalize laws, pickling)

def _batches(texts, size, d: Path):
    p = d / "c.jsonl"
    p.write_text("".join(json.dumps({"id": i, "text": t, "source": "ab"[i % 2]}) + "\n" for i, t in enumerate(texts)))
    probes = d / "probes.jsonl"  # so that measures needing their own input (probes) are built too
    probes.write_text(json.dumps({"id": "capital", "subject": "France", "answers": ["Paris", "Lyon"],
                                  "patterns": ["{answer} is the capital of {subject}"]}) + "\n")
    cfg = build(AuditConfig, batch_size=size, source_field="source", probes=str(probes))
    return list(iter_batches(p, cfg.reader, Quarantine(), ReadStats(), get_tokenizer("words"), None)), cfg


TEXTS = [f"Document {i} tells of Paris and Tom Cruise {'again ' * (i % 3)}with words {i % 5}. "
         f"{'Paris' if i % 3 else 'Lyon'} is the capital of France." for i in range(40)]


@pytest.mark.parametrize("name", [s.name for s in specs() if s.build is not None])
def test_measure_contract(name, tmp_path):
    batches, cfg = _batches(TEXTS, 7, tmp_path)
    measure = MEASURES.get(name).build(cfg)
    assert measure is not None, f"{name} is not built even with every input a measure may need"
    states = [measure.map(b) for b in batches]
    left = measure.empty()
    for s in states:
        left = measure.merge(left, s)
    right = measure.empty()
    for s in reversed(states):
        right = measure.merge(s, right)
    folded = measure.empty()
    for b in batches:
        folded = measure.accumulate(folded, b)
    one = json.dumps(_plain(measure.finalize(left)), sort_keys=True)
    assert json.dumps(_plain(measure.finalize(right)), sort_keys=True) == one  # merge order does not matter
    assert json.dumps(_plain(measure.finalize(folded)), sort_keys=True) == one  # accumulate == merge(map)
    assert json.dumps(_plain(measure.finalize(pickle.loads(pickle.dumps(left)))), sort_keys=True) == one
    ident = measure.merge(measure.empty(), states[0])
    assert json.dumps(_plain(measure.finalize(ident)), sort_keys=True) == \
        json.dumps(_plain(measure.finalize(states[0])), sort_keys=True)


def _plain(x):
    from curadebt.core.measure import to_jsonable

    return to_jsonable(x)


def test_every_default_measure_is_registered_and_built():
    names = [m.name for m in build_measures(AuditConfig())]
    assert names == ["frequency", "duplicates", "salience", "mixture"]
    assert section_names()[:6] == ["frequency", "duplicates", "salience", "mixture", "order", "probes"]


def test_no_engine_name_branch_outside_the_engine_seam():
    src = Path(__file__).resolve().parents[2] / "src" / "curadebt"
    pattern = re.compile(r"""engine\s*(==|!=|in)\s*[\("']""")
    offenders = [str(p.relative_to(src)) for p in src.rglob("*.py")
                 if "engine" not in p.relative_to(src).parts[:1] and pattern.search(p.read_text())]
    assert offenders == []
