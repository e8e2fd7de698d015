"""The local engine's spill folders: the memory tier within its budget, the disk beyond it."""
import os

import numpy as np
import pytest

from curadebt.engine import spill


@pytest.fixture
def roots(tmp_path, monkeypatch):
    """A fake memory tier and disk, so the test sees every file."""
    memory, disk = tmp_path / "shm", tmp_path / "disk"
    memory.mkdir()
    disk.mkdir()
    monkeypatch.delenv("CURADEBT_SPILL_DIR", raising=False)
    monkeypatch.setattr(spill, "MEMORY_ROOT", str(memory))
    monkeypatch.setattr(spill.tempfile, "gettempdir", lambda: str(disk))
    return memory, disk


def test_blocks_go_to_memory_while_it_has_room_then_to_disk(roots, monkeypatch):
    memory, disk = roots
    folder = spill.make_spill_dir()
    assert os.path.dirname(folder) == str(memory)
    monkeypatch.setattr(spill, "_memory_room", lambda: 1 << 20)  # (the fake tier is on a disk)
    small = np.arange(1000)
    at = spill.dump(os.path.join(folder, "a.pkl"), small)
    assert os.path.dirname(at) == folder and np.array_equal(spill.load(at), small)
    # no room left under the budget: the block goes to the folder's twin on disk, whole
    monkeypatch.setattr(spill, "_memory_room", lambda: 100)
    big = np.arange(100_000)
    at = spill.dump(os.path.join(folder, "b.pkl"), big)
    assert at == str(disk / os.path.basename(folder) / "b.pkl") and np.array_equal(spill.load(at), big)
    assert not os.path.exists(os.path.join(folder, "b.pkl")) and not os.path.exists(os.path.join(folder, "b.pkl.tmp"))
    spill.remove_spill_dir(folder)
    assert list(memory.iterdir()) == [] and list(disk.iterdir()) == []


def test_no_memory_tier_when_a_folder_is_chosen(roots, tmp_path, monkeypatch):
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    monkeypatch.setenv("CURADEBT_SPILL_DIR", str(chosen))
    folder = spill.make_spill_dir()
    assert os.path.dirname(folder) == str(chosen)
    assert spill.dump(os.path.join(folder, "a.pkl"), [1, 2]) == os.path.join(folder, "a.pkl")
    spill.remove_spill_dir(folder)


def test_stale_folders_of_dead_runs_go_from_both_tiers(roots):
    memory, disk = roots
    dead = 2 ** 22 + 12345  # above the default pid_max: no such process
    stale = [memory / f"{spill.SPILL_PREFIX}{dead}-x", disk / f"{spill.SPILL_PREFIX}{dead}-x"]
    live = memory / f"{spill.SPILL_PREFIX}{os.getpid()}-y"
    for p in stale + [live]:
        p.mkdir()
    folder = spill.make_spill_dir()
    assert not any(p.exists() for p in stale) and live.exists()
    spill.remove_spill_dir(folder)


def test_a_small_memory_tier_is_not_used(roots, monkeypatch):
    memory, disk = roots
    assert spill.spill_roots()[0] == str(memory)
    monkeypatch.setattr(spill, "MEMORY_MIN_SIZE", 1 << 62)  # as a container's 64 MB /dev/shm
    assert spill.spill_roots() == [str(disk)]


def test_spill_dir_setting_puts_a_runs_blocks_there_and_removes_them(roots, tmp_path):
    from curadebt import engine
    from curadebt.core.config import build
    from curadebt.measures.config import AuditConfig

    memory, disk = roots
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    eng = engine.get(build(AuditConfig, spill_dir=str(chosen)))
    with eng.session() as s:
        ref = s._put(np.arange(10))  # what a measure spills in one process
        assert os.path.dirname(os.path.dirname(ref.key)) == str(chosen)
        assert list(memory.iterdir()) == []
    assert list(chosen.iterdir()) == []  # the run's folder went with it; the chosen folder stays


def test_spill_dir_that_is_not_there_fails_before_any_work(tmp_path):
    from curadebt import engine
    from curadebt.core.config import build
    from curadebt.measures.config import AuditConfig

    with pytest.raises(engine.EngineChoiceError, match="does not exist"):
        engine.get(build(AuditConfig, spill_dir=str(tmp_path / "typo")))
    assert not (tmp_path / "typo").exists()
