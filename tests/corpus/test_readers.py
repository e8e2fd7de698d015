import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from curadebt.corpus import Quarantine, ReaderConfig, ReadStats, iter_batches, iter_documents
from curadebt.corpus.readers import CorpusError, decode_text


def _read(path, **cfg):
    q, st = Quarantine(), ReadStats()
    docs = list(iter_documents(path, ReaderConfig(**cfg), q, st))
    return docs, q, st


def _garbage_jsonl(path, big_bytes=20 * 1024 * 1024):
    lines = [
        json.dumps({"text": "good one", "source": "a"}).encode(),
        b"{not json",
        json.dumps({"text": "caf\u00e9"}).encode().replace(b"caf\\u00e9", b"caf\xe9"),  # raw latin-1 byte: invalid UTF-8
        json.dumps({"body": "no text field"}).encode(),
        json.dumps({"text": 42}).encode(),
        json.dumps({"text": "   "}).encode(),
        json.dumps(["a", "list"]).encode(),
        b'{"text": "' + b"x" * big_bytes + b'"}',
        b"",
        json.dumps({"text": "good two", "source": "b"}).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_garbage_jsonl_is_quarantined_and_reconciles(tmp_path):
    p = tmp_path / "garbage.jsonl"
    _garbage_jsonl(p)
    out = tmp_path / "q.jsonl"
    q, st = Quarantine(out), ReadStats()
    docs = list(iter_documents(p, ReaderConfig(source_field="source"), q, st))
    q.close()
    assert [d.text for d in docs] == ["good one", "good two"]
    assert [d.id for d in docs] == ["garbage.jsonl:1", "garbage.jsonl:10"]  # no id field: the location
    assert [d.source for d in docs] == ["a", "b"]
    assert st.documents_read == st.documents_ok + st.documents_quarantined == 9
    assert dict(q.counts) == {"invalid_json": 1, "invalid_utf8": 1, "missing_text": 1, "non_string_text": 1,
                              "empty_text": 1, "not_an_object": 1, "too_large": 1}
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["location"] for r in records} == {f"garbage.jsonl:{i}" for i in (2, 3, 4, 5, 6, 7, 8)}
    assert all(len(r["preview"]) <= 200 for r in records)


def test_compressed_and_parquet_match_plain(tmp_path):
    recs = [{"text": f"document number {i}", "doc": f"d{i}", "src": "s"} for i in range(2500)]
    raw = "".join(json.dumps(r) + "\n" for r in recs).encode()
    (tmp_path / "a.jsonl").write_bytes(raw)
    with gzip.open(tmp_path / "a.jsonl.gz", "wb") as fh:
        fh.write(raw)
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(raw))
    pq.write_table(pa.Table.from_pylist(recs), tmp_path / "a.parquet", row_group_size=700)
    expected = [(r["doc"], r["text"]) for r in recs]
    for name in ("a.jsonl", "a.jsonl.gz", "a.jsonl.zst", "a.parquet"):
        docs, q, st = _read(tmp_path / name, id_field="doc", source_field="src")
        assert [(d.id, d.text) for d in docs] == expected, name
        assert [d.ordinal for d in docs] == list(range(2500))
        assert q.total == 0


def test_batches_keep_order_and_size(tmp_path):
    p = tmp_path / "c.jsonl"
    p.write_text("".join(json.dumps({"text": f"t {i}"}) + "\n" for i in range(2345)))
    batches = list(iter_batches(p, ReaderConfig(batch_size=1000)))
    assert [len(b) for b in batches] == [1000, 1000, 345]
    assert batches[1].first_ordinal == 1000
    assert batches[2].tokens[0] == ["t", "2000"]


def test_text_folder_with_non_utf8_file_is_decoded_and_flagged(tmp_path):
    (tmp_path / "a.txt").write_text("plain text", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes("smart \u201cquotes\u201d".encode("cp1252"))
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / ".hidden").write_text("skip me")
    docs, q, st = _read(tmp_path)
    assert [d.id for d in docs] == ["a.txt", "b.txt"]
    assert docs[1].text == "smart \u201cquotes\u201d" and docs[1].meta["encoding_fallback"] == "cp1252"
    assert st.decoded_with_fallback == 1 and dict(q.counts) == {"empty_text": 1}


def test_decode_text_fallback():
    assert decode_text("é".encode()) == ("é", None)
    assert decode_text(b"\x81\x8d") == ("\x81\x8d", "latin-1")  # undefined in cp1252


def test_hf_saved_dataset_folder(tmp_path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"content": ["alpha beta", "", "gamma"], "origin": ["x", "y", "z"]})
    ds.save_to_disk(str(tmp_path / "ds"))
    docs, q, st = _read(tmp_path / "ds", text_field="content", source_field="origin")
    assert [(d.text, d.source, d.id) for d in docs] == [("alpha beta", "x", "ds/data-00000-of-00001.arrow:1"),
                                                        ("gamma", "z", "ds/data-00000-of-00001.arrow:3")]
    assert dict(q.counts) == {"empty_text": 1}


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        list(iter_documents(tmp_path / "nope.jsonl"))


@pytest.mark.parametrize("folder,n_files,n_fallback", [("inaugural", 59, 1), ("state_union", 65, 6)])
def test_real_folders_with_cp1252_files_are_read_whole(shared_data, folder, n_files, n_fallback):
    root = shared_data(folder)
    docs, q, st = _read(root)
    txt = [d for d in docs if d.id.endswith(".txt")]
    assert len(txt) == n_files and q.total == 0
    assert [s["path"].rsplit("/", 1)[-1] for s in st.skipped] == ["PROVENANCE.txt"]  # metadata, not a speech
    assert sum(1 for d in txt if "encoding_fallback" in d.meta) == n_fallback
    for d in txt:
        assert len(d.text.encode("utf-8")) >= (root / d.id).stat().st_size * 0.99


def test_line_splitter_matches_universal_newlines_at_every_block_edge(monkeypatch):
    """Random bytes of 'a', 'b', CR and LF, a tiny block size (every edge case of a CR at a block's
    end), random limits and byte order marks: the bounded splitter equals bytes.splitlines."""
    import io
    import random

    from curadebt.corpus import streams as r

    monkeypatch.setattr(r, "BLOCK", 7)

    def ref(data: bytes, limit: int):
        out, bom = [], 0
        if data.startswith(r.BOM):
            data, bom = data[3:], 3
        for line in data.splitlines(keepends=True):
            body = line.rstrip(b"\r\n")
            out.append((body if len(body) <= limit else None, len(line) + bom))
            bom = 0
        return out + ([(b"", bom)] if bom else [])

    rng = random.Random(0)
    for _ in range(5000):
        data = bytes(rng.choice(b"ab\r\n") for _ in range(rng.randint(0, 40)))
        if rng.random() < 0.2:
            data = r.BOM + data
        limit = rng.randint(0, 6)
        assert list(r.iter_lines_bounded(io.BytesIO(data), limit)) == ref(data, limit), (data, limit)
