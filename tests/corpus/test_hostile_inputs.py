"""A hostile user's attacks on audit, curate and the index, each checked for the exit code, the
message, balanced books, and the bytes of the input and of foreign files before and after.

Every input is built here. What each attack was (issue "Nothing lost, ever"): curate writing into
its own input, foreign files deleted from --out, a torn folder after a kill (tests/test_curate_kill.py),
truncated or corrupt compressed files read as a shorter corpus, crashes on valid or empty input,
silent changes to ids and line ends, leftovers of killed runs, an index trusting its files, and
tracebacks instead of messages.
"""
from __future__ import annotations

import gzip
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curadebt.cli import app

runner = CliRunner()

WORDS = ("river harbour lantern meadow copper violin orchard glacier thunder saddle marble pepper quilt "
         "falcon ember willow canyon beacon velvet anchor").split()


def _text(i: int, n: int = 40) -> str:
    """A distinct, ordinary paragraph per i (no two are near duplicates)."""
    import random

    r = random.Random(i)
    return " ".join(r.choice(WORDS) for _ in range(n)).capitalize() + f". Note {i}."


def _rows(n: int = 40, **extra) -> list[dict]:
    return [{"id": f"d{i}", "text": _text(i), "source": "a" if i % 2 else "b", **extra} for i in range(n)]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _snap(root: Path) -> dict[str, bytes]:
    if root.is_file():
        return {root.name: root.read_bytes()}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def _books(out: Path) -> dict:
    rep = json.loads((out / "report.json").read_text())
    c = rep["curate"]["reconciliation"] if "curate" in rep else None
    if c is not None:
        assert c["ok"] and c["read"] == c["kept"] + c["dropped"] + c["quarantined"]
        return c
    corpus = rep["corpus"]
    assert corpus["documents_read"] == corpus["documents_audited"] + corpus["documents_quarantined"]
    return corpus


# --- 1. curate never writes where it reads --------------------------------------------------

@pytest.mark.parametrize("where", ["contains", "equal", "inside", "symlink"])
def test_out_overlapping_the_input_is_refused_before_reading(tmp_path, where):
    ds = tmp_path / "X"
    _write_jsonl(ds / "data" / "part-00000.jsonl", _rows(30))
    before = _snap(tmp_path)
    corpus, out = {"contains": (ds / "data", ds), "equal": (ds / "data", ds / "data"),
                   "inside": (ds, ds / "data" / "out"), "symlink": (ds / "data", tmp_path / "link")}[where]
    if where == "symlink":
        os.symlink(ds, tmp_path / "link")
        before = _snap(ds)
    for cmd in (["curate"], ["audit"], ["index", "build"]):
        r = _run(*cmd, corpus, "--out", out)
        assert r.exit_code == 5, r.output
        assert "never writes where it reads" in r.output
    assert (_snap(ds) if where == "symlink" else _snap(tmp_path)) == before


# --- 2. foreign files are never deleted or overwritten -------------------------------------

def test_foreign_files_in_a_curadebt_output_survive_a_rerun(tmp_path):
    corpus = _write_jsonl(tmp_path / "c.jsonl", _rows())
    out = tmp_path / "out"
    assert _run("curate", corpus, "-o", out, "-q").exit_code == 0
    foreign = {out / "data" / "part-00099.jsonl": b'{"text": "mine"}\n', out / "data" / "part-00007.parquet": b"PAR1",
               out / "data" / ".notes.tmp": b"scratch", out / "README.md": b"# my notes\n"}
    for p, b in foreign.items():
        p.write_bytes(b)
    r = _run("curate", corpus, "-o", out, "-q", "--seed", "3")
    assert r.exit_code == 0, r.output
    for p, b in foreign.items():
        assert p.read_bytes() == b
    _books(out)
    assert _run("verify", out).exit_code == 0


def test_a_folder_curadebt_did_not_write_needs_force_and_keeps_its_files(tmp_path):
    corpus = _write_jsonl(tmp_path / "c.jsonl", _rows())
    out = tmp_path / "mine"
    (out / "data").mkdir(parents=True)
    (out / "notes.txt").write_text("do not touch")
    (out / "data" / "part-00099.jsonl").write_text('{"text": "mine"}\n')
    before = _snap(out)
    for cmd in ("audit", "curate"):
        r = _run(cmd, corpus, "-o", out, "-q")
        assert r.exit_code == 5 and "was not written by curadebt" in r.output and "--force" in r.output
        assert _snap(out) == before
    r = _run("curate", corpus, "-o", out, "-q", "--force")
    assert r.exit_code == 0, r.output
    after = _snap(out)
    assert all(after[k] == v for k, v in before.items())
    _books(out)


def test_force_never_overwrites_a_foreign_file_of_the_same_name(tmp_path):
    corpus = _write_jsonl(tmp_path / "c.jsonl", _rows())
    out = tmp_path / "mine"
    out.mkdir()
    (out / "report.json").write_text("{\"mine\": true}")
    r = _run("audit", corpus, "-o", out, "-q", "--force")
    assert r.exit_code == 5 and "report.json exists and was not written by curadebt" in r.output
    assert (out / "report.json").read_text() == "{\"mine\": true}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl", "mine"]  # no staging left


def test_out_that_is_a_file_or_another_kind_of_output(tmp_path):
    corpus = _write_jsonl(tmp_path / "c.jsonl", _rows())
    (tmp_path / "f").write_text("x")
    r = _run("audit", corpus, "-o", tmp_path / "f")
    assert r.exit_code == 5 and "is a file" in r.output and (tmp_path / "f").read_text() == "x"
    assert _run("audit", corpus, "-o", tmp_path / "a", "-q").exit_code == 0
    before = _snap(tmp_path / "a")
    r = _run("curate", corpus, "-o", tmp_path / "a", "-q")
    assert r.exit_code == 5 and "holds a curadebt audit output" in r.output
    assert _snap(tmp_path / "a") == before


def test_two_runs_on_one_out_the_second_stops_with_the_first_pid(tmp_path):
    corpus = _write_jsonl(tmp_path / "c.jsonl", _rows())
    out = tmp_path / "out"
    env = dict(os.environ, CURADEBT_CURATE_PAUSE_AT="looked")
    proc = subprocess.Popen([sys.executable, "-m", "curadebt.cli", "curate", str(corpus), "-o", str(out), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            if "CURADEBT-PAUSED looked" in line:
                break
        r = _run("curate", corpus, "-o", out, "-q")
        assert r.exit_code == 5 and f"another curadebt run (pid {proc.pid})" in r.output
    finally:
        proc.kill()
        proc.wait()
    assert not out.exists()
    assert _run("curate", corpus, "-o", out, "-q").exit_code == 0  # the kernel dropped the dead run's lock


# --- 4. compressed files are read to their end ---------------------------------------------

def _compressed(tmp_path: Path, kind: str) -> tuple[Path, bytes]:
    import zstandard

    data = "".join(json.dumps(r) + "\n" for r in _rows(400)).encode()
    if kind == "gz":
        return tmp_path / "c.jsonl.gz", gzip.compress(data)
    return tmp_path / "c.jsonl.zst", zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize("kind", ["gz", "zst"])
@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_truncated_or_corrupt_compressed_files_fail_loudly(tmp_path, kind, damage):
    path, blob = _compressed(tmp_path, kind)
    path.write_bytes(blob)
    assert _run("audit", path, "-o", tmp_path / "ok", "-q").exit_code == 0  # the whole file reads fine
    if damage == "truncated":
        bad = blob[: len(blob) * 2 // 3]
    else:
        bad = blob[:10] + bytes(b ^ 0x5A for b in blob[10:40]) + blob[40:]
    path.write_bytes(bad)
    for cmd in ("audit", "curate"):
        r = _run(cmd, path, "-o", tmp_path / f"out-{cmd}", "-q")
        assert r.exit_code == 3, r.output
        assert path.name in r.output and ("truncated" in r.output or "corrupt" in r.output)
        assert "Traceback" not in r.output
        assert not (tmp_path / f"out-{cmd}").exists()  # nothing written
    assert path.read_bytes() == bad


# --- 5. valid or empty input never crashes --------------------------------------------------

def test_markup_in_data_is_printed_literally(tmp_path):
    rows = [dict(r, source="[/]" if i % 2 else "[link=http://evil]x[/link]") for i, r in enumerate(_rows(60))]
    corpus = _write_jsonl(tmp_path / "c.jsonl", rows)
    r = _run("audit", corpus, "--source-field", "source", "-o", tmp_path / "a")
    assert r.exit_code == 0, r.output
    assert "'[/]'" in r.output and "[link=http://evil]x[/link]" in r.output
    r = _run("curate", corpus, "--source-field", "source", "-o", tmp_path / "c")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("case", ["empty", "blank_lines", "all_invalid", "wrong_field"])
def test_no_document_is_one_clear_error(tmp_path, case):
    path = tmp_path / "c.jsonl"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "blank_lines":
        path.write_bytes(b"\n\n  \n")
    elif case == "all_invalid":
        path.write_bytes(b"{oops\n[1, 2]\n")
    else:
        _write_jsonl(path, [{"id": i, "content": _text(i), "lang": "en"} for i in range(20)])
    for cmd in ("audit", "curate"):
        r = _run(cmd, path, "-o", tmp_path / cmd, "-q")
        assert r.exit_code == 3, r.output
        assert "nothing was written" in r.output and not (tmp_path / cmd).exists()
    if case == "wrong_field":
        assert "'content'" in r.output and "'lang'" in r.output and "--text-field" in r.output
    if case == "all_invalid":
        assert "invalid_json 1" in r.output and "not_an_object 1" in r.output


def test_lone_surrogates_are_quarantined_and_the_books_balance(tmp_path):
    corpus = tmp_path / "c.jsonl"
    lines = [json.dumps(r) for r in _rows(20)]
    lines.insert(3, '{"id": "s1", "text": "bad \\ud800 here"}')
    lines.insert(7, '{"id": "s2", "text": "fine text", "title": "\\udfff"}')
    lines.insert(9, '{"id": "s3", "text": "a real pair \\ud83d\\ude00 is fine"}')
    corpus.write_text("\n".join(lines) + "\n")
    before = _snap(corpus)
    r = _run("curate", corpus, "-o", tmp_path / "out", "--format", "parquet", "-q")
    assert r.exit_code == 0, r.output
    books = _books(tmp_path / "out")
    assert books["read"] == 23 and books["quarantined"] == 2
    q = [json.loads(x) for x in (tmp_path / "out" / "before" / "quarantine.jsonl").read_text().splitlines()]
    assert [(x["location"], x["reason"]) for x in q] == [("c.jsonl:4", "unencodable_text"), ("c.jsonl:8", "unencodable_text")]
    r = _run("index", "build", corpus, "-o", tmp_path / "idx")
    assert r.exit_code == 0, r.output
    r = _run("index", "docs", tmp_path / "idx", "real pair")
    assert r.exit_code == 0 and "1 occurrences" in r.output
    assert _snap(corpus) == before


def test_unreadable_files_are_a_clear_error(tmp_path, monkeypatch):
    import builtins

    import pyarrow as pa
    import pyarrow.parquet as pq

    corpus = _write_jsonl(tmp_path / "c.jsonl", _rows())
    pq.write_table(pa.Table.from_pylist(_rows()), tmp_path / "c.parquet")
    real_open = builtins.open

    def no_access(path, *a, **k):
        if str(path).endswith(("c.jsonl", "c.parquet")):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", no_access)
    real_pf = pq.ParquetFile
    monkeypatch.setattr(pq, "ParquetFile", lambda p, *a, **k: no_access(p) or real_pf(p, *a, **k))
    for path in (corpus, tmp_path / "c.parquet"):
        r = _run("audit", path, "-o", tmp_path / "a", "-q")
        assert r.exit_code == 3 and "cannot read it (Permission denied)" in r.output, r.output


def test_disk_full_is_one_line_and_leaves_nothing(tmp_path):
    """A real write failure: the file-size limit makes the shard write fail (EFBIG), as a full disk would."""
    corpus = _write_jsonl(tmp_path / "c.jsonl", _rows(3000))
    out = tmp_path / "out"

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    res = subprocess.run([sys.executable, "-m", "curadebt.cli", "curate", str(corpus), "-o", str(out), "-q"],
                         capture_output=True, text=True, preexec_fn=limit, env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert res.returncode == 5, res.stderr
    assert "File too large" in res.stderr and "nothing was committed" in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl"]  # no output, staging, lock or spill


# --- 6. nothing changes silently ------------------------------------------------------------

def test_ids_keep_their_json_value(tmp_path):
    rows = [{"id": 123, "text": _text(1)}, {"id": None, "text": _text(2)}, {"id": ["x", 1], "text": _text(3)},
            {"text": _text(4)}, {"id": "s", "text": _text(5)}, {"id": 1.5, "text": _text(6)}]
    corpus = _write_jsonl(tmp_path / "c.jsonl", rows)
    out = tmp_path / "out"
    assert _run("curate", corpus, "-o", out, "-q", "--order", "keep").exit_code == 0
    written = [json.loads(x) for x in (out / "data" / "part-00000.jsonl").read_text().splitlines()]
    assert written == rows  # every record exactly as it came in
    import pyarrow.parquet as pq

    ids = pq.read_table(out / "ledger.parquet", columns=["id"]).column("id").to_pylist()
    assert ids == ["123", "c.jsonl:2", '["x",1]', "c.jsonl:4", "s", "1.5"]  # compact JSON; the location where none


def test_copies_of_non_string_ids_get_a_string_id_and_keep_the_original(tmp_path):
    rows = [{"id": i, "text": _text(i), "source": "small" if i < 2 else "big"} for i in range(12)]
    corpus = _write_jsonl(tmp_path / "c.jsonl", rows)
    out = tmp_path / "out"
    r = _run("curate", corpus, "-o", out, "-q", "--source-field", "source", "--mixture", "unimax")
    assert r.exit_code == 0, r.output
    recs = [json.loads(x) for p in sorted((out / "data").iterdir()) for x in p.read_text().splitlines()]
    copies = [x for x in recs if "curadebt_copy_of" in x]
    assert copies and all(x["id"] == f"{x['curadebt_copy_of']}#{x['id'].rsplit('#', 1)[1]}" for x in copies)
    assert all(isinstance(x["curadebt_copy_of"], int) for x in copies)
    assert all(isinstance(x["id"], int) for x in recs if "curadebt_copy_of" not in x)
    assert _run("verify", out, "--checksums").exit_code == 0


@pytest.mark.parametrize("ending", [b"\r", b"\r\n", b"\n"])
def test_line_endings_and_a_byte_order_mark(tmp_path, ending):
    rows = _rows(1000)
    data = b"\xef\xbb\xbf" + ending.join(json.dumps(r).encode() for r in rows) + ending
    (tmp_path / "c.jsonl").write_bytes(data)
    r = _run("audit", tmp_path / "c.jsonl", "-o", tmp_path / "a", "-q")
    assert r.exit_code == 0, r.output
    c = _books(tmp_path / "a")
    assert c["documents_read"] == 1000 and c["documents_quarantined"] == 0
    assert c["bytes_read"] == len(data)


def test_skipped_paths_are_counted_listed_and_printed(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.txt").write_text(_text(i))
    (folder / ".hidden.txt").write_text(_text(9))
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "x.txt").write_text(_text(10))
    os.symlink(other, folder / "linked")
    os.symlink(tmp_path / "missing.txt", folder / "dangling.txt")
    os.mkfifo(folder / "pipe.txt")
    os.symlink(folder / "0.txt", folder / "3-link.txt")  # a link to a file is read
    r = _run("audit", folder, "-o", tmp_path / "a")
    assert r.exit_code == 0, r.output
    assert "skipped 4 path(s)" in r.output
    rep = json.loads((tmp_path / "a" / "report.json").read_text())
    got = {(Path(s["path"]).name, s["reason"]) for s in rep["corpus"]["skipped_paths"]}
    assert got == {(".hidden.txt", "hidden"), ("linked", "symlinked_folder"), ("dangling.txt", "dangling_symlink"),
                   ("pipe.txt", "not_a_regular_file")}
    assert rep["corpus"]["documents_read"] == 4


# --- 7. no leftovers -------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killed_parallel_run_leaves_no_workers_and_its_spill_goes_next_time(tmp_path):
    corpus = _write_jsonl(tmp_path / "c.jsonl", _rows(20000))
    env = dict(os.environ, CURADEBT_SPILL_DIR=str(tmp_path / "tmp"))  # where the spill folders go
    (tmp_path / "tmp").mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "curadebt.cli", "audit", str(corpus), "-o", str(tmp_path / "a"),
                             "--workers", "2", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline, kids = time.time() + 60, []
    while time.time() < deadline and len(kids) < 2:
        kids = _children(proc.pid)
        time.sleep(0.05)
    assert len(kids) >= 2, "the workers never started"
    spills = list((tmp_path / "tmp").glob("curadebt-spill-*"))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 20
    while time.time() < deadline and any(Path(f"/proc/{k}").exists() and _zombie_or_alive(k) for k in kids):
        time.sleep(0.1)
    assert not any(_zombie_or_alive(k) for k in kids), "workers outlived their killed parent"
    assert spills and all(s.exists() for s in spills)
    r = subprocess.run([sys.executable, "-m", "curadebt.cli", "audit", str(corpus), "-o", str(tmp_path / "a"),
                        "--workers", "2", "-q"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert list((tmp_path / "tmp").glob("curadebt-spill-*")) == []


def _zombie_or_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# --- 8. the index does not trust its files ---------------------------------------------------

@pytest.fixture
def two_indexes(tmp_path):
    a = _write_jsonl(tmp_path / "a.jsonl", _rows(30))
    b = _write_jsonl(tmp_path / "b.jsonl", [{"text": "completely other words here " * (i + 1)} for i in range(30)])
    for src, idx in ((a, "ia"), (b, "ib")):
        assert _run("index", "build", src, "-o", tmp_path / idx, "--id-field", "id").exit_code == 0
    return tmp_path / "ia", tmp_path / "ib"


@pytest.mark.parametrize("damage", ["truncate_doc_ids", "truncate_text", "other_vocab", "flip_a_byte"])
def test_a_damaged_index_is_refused(two_indexes, damage):
    ia, ib = two_indexes
    assert _run("index", "count", ia, "river").exit_code == 0
    if damage == "truncate_doc_ids":
        p = ia / "shard-00000" / "doc_ids.bin"
        p.write_bytes(p.read_bytes()[:-5])
    elif damage == "truncate_text":
        p = ia / "shard-00000" / "text.bin"
        p.write_bytes(p.read_bytes()[:-100])
    elif damage == "other_vocab":
        (ia / "tokenizer" / "vocab.json").write_bytes((ib / "tokenizer" / "vocab.json").read_bytes())
    else:
        p = ia / "shard-00000" / "sa.bin"
        b = bytearray(p.read_bytes())
        b[8] ^= 0xFF
        p.write_bytes(bytes(b))
    r = _run("index", "count", ia, "river")
    if damage == "flip_a_byte":  # same sizes: only the checksums see it
        assert r.exit_code == 0
        r = _run("verify", ia, "--checksums")
        assert r.exit_code == 1 and "sa.bin" in r.output and "checksum" in r.output
        return
    assert r.exit_code == 3, r.output
    assert ("manifest" in r.output or "tokenizer files" in r.output) and "rebuild" in r.output


# --- 9. no tracebacks -------------------------------------------------------------------------

def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(tmp_path, monkeypatch):
    import curadebt.measures.runner as runner_mod

    corpus = _write_jsonl(tmp_path / "c.jsonl", _rows())

    def boom(*a, **k):
        raise TypeError("something broke")

    monkeypatch.setattr(runner_mod, "audit_into", boom)
    r = _run("audit", corpus, "-o", tmp_path / "a", "-q")
    assert r.exit_code == 70 and "internal error: TypeError: something broke" in r.output
    assert "Traceback" not in r.output and "--debug" in r.output
    r = _run("--debug", "audit", corpus, "-o", tmp_path / "a", "-q")
    assert r.exit_code == 70 and "Traceback" in r.output
    assert not (tmp_path / "a").exists()
