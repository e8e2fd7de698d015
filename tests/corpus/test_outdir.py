"""The output-folder transaction (curadebt.corpus.outdir): one change, foreign files kept, locks."""
from __future__ import annotations

import os

import pytest

from curadebt.corpus import outdir
from curadebt.corpus.outdir import MANIFEST, OutputError, read_manifest, staged_output, verify_output


def _write(stage, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = stage.dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def _commit(out, files: dict[str, str], **kw) -> None:
    with staged_output(out, kind="t", **kw) as st:
        _write(st, files)
        st.commit()


def _tree(root):
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("exchange", [True, False])
def test_replace_is_whole_and_leaves_nothing_beside(tmp_path, monkeypatch, exchange):
    if not exchange:  # a file system without RENAME_EXCHANGE: two renames
        monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    _commit(out, {"a.txt": "1", "d/b.txt": "2"})
    _commit(out, {"a.txt": "new", "c.txt": "3"})
    assert _tree(out) == {"a.txt": "new", "c.txt": "3", MANIFEST: (out / MANIFEST).read_text()}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert verify_output(out, checksums=True) == []
    assert [f["path"] for f in read_manifest(out)["files"]] == ["a.txt", "c.txt"]


def test_an_error_inside_changes_nothing(tmp_path):
    out = tmp_path / "out"
    _commit(out, {"a.txt": "1"})
    before = _tree(out)
    with pytest.raises(RuntimeError):
        with staged_output(out, kind="t") as st:
            _write(st, {"a.txt": "half"})
            raise RuntimeError("killed")
    assert _tree(out) == before and [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_run_killed_between_two_renames_is_rolled_back(tmp_path):
    out = tmp_path / "out"
    _commit(out, {"a.txt": "old"})
    before = _tree(out)
    os.replace(out, tmp_path / ".out.curadebt-old-123")  # as a kill after the first rename leaves it
    with staged_output(out, kind="t"):
        assert _tree(out) == before  # restored before anything else
    assert _tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no commit: the staging folder is gone too


def test_foreign_files_stay_and_a_clash_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("user")
    with pytest.raises(OutputError, match="--force"):
        with staged_output(out, kind="t"):
            pass
    _commit(out, {"d/a.txt": "1"}, force=True)
    _commit(out, {"b.txt": "2"})  # now a curadebt output with a foreign file: no force needed
    assert (out / "mine.txt").read_text() == "user" and not (out / "d").exists() and (out / "b.txt").exists()
    with pytest.raises(OutputError, match="mine.txt exists and was not written by curadebt"):
        _commit(out, {"mine.txt": "overwrite?"})
    assert (out / "mine.txt").read_text() == "user"


def test_lock_refuses_a_second_writer(tmp_path):
    out = tmp_path / "out"
    with staged_output(out, kind="t") as st:
        with pytest.raises(OutputError, match=f"pid {os.getpid()}"):
            with staged_output(out, kind="t"):
                pass
        st.commit()
    with staged_output(out, kind="t") as st:  # released
        st.commit()


def test_overlap_rules(tmp_path):
    (tmp_path / "in").mkdir()
    for out in (tmp_path / "in", tmp_path / "in" / "x", tmp_path):
        with pytest.raises(OutputError, match="never writes where it reads"):
            outdir.check_disjoint([tmp_path / "in"], out)
    outdir.check_disjoint([tmp_path / "in"], tmp_path / "in2")  # a sibling with a common prefix is fine
