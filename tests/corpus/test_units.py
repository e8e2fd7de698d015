"""Read units: a corpus read unit by unit (local ordinals, then rebased) equals one sequential read:
the same documents (ids, ordinals, texts, meta), the same books and the same quarantine, in order."""
from __future__ import annotations

import gzip
import json

import pytest

from curadebt.corpus.quarantine import Quarantine
from curadebt.corpus.readers import ReaderConfig, ReadStats, iter_documents
from curadebt.corpus.units import iter_unit, line_ranges, merge_stats, plan_units, rebase
from curadebt.corpus.streams import iter_lines_bounded


def sequential(paths, config):
    q, stats = Quarantine(), ReadStats()
    q.records = []
    add = q.add

    def keep(rec):
        q.records.append(rec)
        add(rec)

    q.add = keep
    docs = list(iter_documents(paths, config, q, stats))
    return docs, stats, q.records


def by_units(paths, config, unit_bytes, hold_order=None):
    """Read every unit with local ordinals (in ``hold_order``, default reversed, as a worker
    might), then rebase in unit order, as the engines do."""
    plan = plan_units(paths, config, unit_bytes)
    parsed = {}
    for u in (hold_order or reversed)(plan.units):
        docs, st, q = iter_unit(u, plan.items, config)
        parsed[u.index] = (list(docs), st, q.records)
    out, stats, quarantined, base = [], ReadStats(), [], 0
    for u in plan.units:
        docs, st, recs = parsed[u.index]
        out.extend(rebase(docs, base))
        base += len(docs)
        merge_stats(stats, st)
        quarantined.extend(recs)
    return plan, out, stats, quarantined


def same(a, b):
    assert [(d.id, d.ordinal, d.text, d.source, d.meta) for d in a[0]] == \
           [(d.id, d.ordinal, d.text, d.source, d.meta) for d in b[0]]
    for k in ("documents_read", "documents_ok", "documents_quarantined", "bytes_read", "decoded_with_fallback"):
        assert getattr(a[1], k) == getattr(b[1], k), k
    assert a[1].fields_without_text == b[1].fields_without_text
    assert [r.to_json() for r in a[2]] == [r.to_json() for r in b[2]]


def hostile_jsonl(path, n=400):
    """Line ends of every kind, blank lines, bad records, a byte order mark, no id on some records."""
    ends = [b"\n", b"\r\n", b"\r"]
    out = bytearray(b"\xef\xbb\xbf")
    for i in range(n):
        if i % 37 == 5:
            out += b"{not json" + ends[i % 3]
        elif i % 41 == 7:
            out += b"   " + ends[i % 3]           # blank: layout, not a record
        elif i % 43 == 9:
            out += json.dumps({"id": i, "body": "no text"}).encode() + ends[i % 3]
        elif i % 47 == 11:
            out += b'{"text": "bad \xff utf8"}' + ends[i % 3]
        else:
            rec = {"text": f"document {i} " + "word " * (i % 13), "source": "s" + str(i % 3)}
            if i % 5:
                rec["id"] = f"r{i}"
            out += json.dumps(rec).encode() + ends[i % 3]
    out += b'{"text": "last line, no end"}'
    path.write_bytes(bytes(out))
    return path


@pytest.mark.parametrize("unit_bytes", [64, 300, 1000, 1 << 20])
def test_units_of_a_hostile_jsonl_read_as_one_sequential_read(tmp_path, unit_bytes):
    p = hostile_jsonl(tmp_path / "c.jsonl")
    cfg = ReaderConfig(source_field="source", max_record_bytes=200)
    plan, *got = by_units(p, cfg, unit_bytes)
    same(sequential(p, cfg), got)
    if unit_bytes < 1000:
        assert len(plan.units) > 5


def test_line_ranges_start_after_a_newline_and_count_lines_as_the_reader_does(tmp_path):
    data = b"a\r\nb\rc\n\n\r\rd\r\ne" * 50
    p = tmp_path / "x.jsonl"
    p.write_bytes(data)
    ranges = line_ranges(p, 7)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    lines_before = 0
    for start, end, first in ranges:
        assert start == 0 or data[start - 1:start] == b"\n"
        assert first == lines_before + 1
        with open(p, "rb") as fh:
            fh.seek(start)
            chunk = fh.read(end - start)
        import io

        lines_before += sum(1 for _ in iter_lines_bounded(io.BytesIO(chunk), 1000, at_file_start=start == 0))


def test_an_over_long_line_across_a_cut_stays_whole(tmp_path):
    p = tmp_path / "long.jsonl"
    recs = [json.dumps({"text": "x" * (5000 if i == 3 else 10)}) for i in range(10)]
    p.write_text("\n".join(recs) + "\n")
    cfg = ReaderConfig(max_record_bytes=1000)
    same(sequential(p, cfg), by_units(p, cfg, 100)[1:])


def test_other_formats_are_whole_units_and_small_files_share_one(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(5):
        (folder / f"t{i}.txt").write_text(f"text file {i}")
    with gzip.open(folder / "z.jsonl.gz", "wt") as fh:
        for i in range(50):
            fh.write(json.dumps({"text": f"zipped {i}"}) + "\n")
    (folder / "big.jsonl").write_text("".join(json.dumps({"text": f"line {i}"}) + "\n" for i in range(300)))
    cfg = ReaderConfig()
    plan, *got = by_units(folder, cfg, 2000)
    same(sequential(folder, cfg), got)
    kinds = [[plan.items[s.item].format for s in u.segments] for u in plan.units]
    assert any(k.count("text") == 5 for k in kinds)       # the small files share a unit
    assert all(len(u.segments) == 1 for u in plan.units if plan.items[u.segments[0].item].format == "jsonl")


def test_real_corpus_by_units_equals_sequential(shared_data):
    p = shared_data("mixed", "corpus.jsonl")
    cfg = ReaderConfig(source_field="source")
    same(sequential(p, cfg), by_units(p, cfg, 1 << 20)[1:])


def test_records_in_memory_have_no_units():
    from curadebt.corpus.sources import MemorySource

    assert plan_units([MemorySource("m", lambda: [{"text": "a"}])], ReaderConfig()) is None
