"""A pass on workers that read their own units (engine/passes): the same books, quarantine and
states as one process, whatever the unit size; an error in a unit is raised as a sequential read
raises it; the driver feeds the workers when they cannot read the corpus; the run's workers serve
every pass and task of a session."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import curadebt.corpus.units as units
from curadebt.core.config import build
from curadebt.corpus.records import CorpusError
from curadebt.measures.runner import AuditConfig, audit


def _corpus(path: Path, n: int = 3000) -> Path:
    lines = []
    for i in range(n):
        if i % 97 == 3:
            lines.append("{broken json")
        elif i % 89 == 5:
            lines.append(json.dumps({"text": "   "}))
        else:
            lines.append(json.dumps({"text": f"Doc {i}: Tom Cruise met Tom Hanks in New York. " + "word " * (i % 17),
                                     "source": f"s{i % 4}", **({"id": f"d{i}"} if i % 3 else {})}))
    path.write_text("\n".join(lines) + "\n")
    return path


def _report(path, out, **kw) -> dict:
    audit(str(path), out=out, config=build(AuditConfig, source_field="source", **kw))
    d = json.loads((out / "report.json").read_text())
    d.pop("config")
    return d


@pytest.mark.parametrize("unit_bytes", [4096, 1 << 20])
def test_units_on_two_workers_equal_one_process(tmp_path, monkeypatch, unit_bytes):
    p = _corpus(tmp_path / "c.jsonl")
    one = _report(p, tmp_path / "one")
    monkeypatch.setattr(units, "UNIT_BYTES", unit_bytes)
    two = _report(p, tmp_path / "two", workers=2)
    assert two == one
    assert (tmp_path / "two" / "quarantine.jsonl").read_text() == (tmp_path / "one" / "quarantine.jsonl").read_text()
    assert one["corpus"]["documents_quarantined"] > 40


def test_units_that_must_wait_for_their_base_give_the_same_books(tmp_path, monkeypatch):
    # no unit may be held: each is read only once every unit before it has reported
    p = _corpus(tmp_path / "c.jsonl")
    one = _report(p, tmp_path / "one")
    monkeypatch.setattr(units, "UNIT_BYTES", 8192)
    import curadebt.engine.passes as passes

    monkeypatch.setattr(passes, "HOLD_BYTES", 0)
    assert _report(p, tmp_path / "two", workers=2) == one


def test_a_corrupt_file_in_a_later_unit_is_the_error_a_sequential_read_raises(tmp_path, monkeypatch):
    import gzip

    folder = tmp_path / "corpus"
    folder.mkdir()
    _corpus(folder / "a.jsonl", 2000)
    data = gzip.compress(b"".join(json.dumps({"text": f"z {i}"}).encode() + b"\n" for i in range(500)))
    (folder / "b.jsonl.gz").write_bytes(data[: len(data) // 2])  # truncated
    monkeypatch.setattr(units, "UNIT_BYTES", 8192)
    with pytest.raises(CorpusError, match="b.jsonl.gz: truncated") as seq:
        audit(str(folder))
    with pytest.raises(CorpusError, match="b.jsonl.gz: truncated") as par:
        audit(str(folder), workers=2)
    assert str(par.value) == str(seq.value)
    assert not (tmp_path / "out").exists()


def test_workers_that_do_not_see_the_files_are_fed_by_the_driver(tmp_path, monkeypatch):
    # a cluster node without the shared file system: the size check fails, the driver reads
    p = _corpus(tmp_path / "c.jsonl")
    one = _report(p, tmp_path / "one")
    import curadebt.corpus.units as u

    real = u.source_sizes
    monkeypatch.setattr(u, "source_sizes", lambda plan: [s + 1 for s in real(plan)])
    assert _report(p, tmp_path / "two", workers=2) == one


def test_records_in_memory_are_fed_by_the_driver():
    import curadebt

    recs = [{"text": f"Tom Cruise and the number {i}", "source": "m"} for i in range(500)] + [{"body": "x"}]
    one = curadebt.audit(recs, source_field="source").to_json()
    two = curadebt.audit(recs, source_field="source", workers=2).to_json()
    for d in (one, two):
        d.pop("config")
    assert one == two and one["corpus"]["documents_quarantined"] == 1


def test_a_session_keeps_its_workers_for_every_pass_and_task(tmp_path):
    from curadebt import engine
    from curadebt.engine.passes import PassInput
    from curadebt.measures.mixture import MixtureMeasure
    from curadebt.corpus.readers import ReaderConfig

    p = _corpus(tmp_path / "c.jsonl", 500)
    with engine.get(build(AuditConfig, workers=2)).session() as s:
        procs = list(s.executor.channel.procs)
        for _ in range(3):
            corpus = PassInput(str(p), ReaderConfig(source_field="source"))
            mixture = MixtureMeasure().finalize(s.run_pass(corpus, [MixtureMeasure()])["mixture"])
            assert sum(src.documents for src in mixture.sources) == corpus.stats.documents_ok == 488
            assert s.executor.get(s.executor.map(len, [([1, 2],), ([3],)])) == [2, 1]
        assert s.executor.channel.procs == procs and all(w.is_alive() for w in procs)
    assert not any(w.is_alive() for w in procs)
