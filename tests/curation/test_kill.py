"""kill -9 of a real curate subprocess at every checkpoint of a run into an --out that holds an
older run: after each kill the folder is exactly the older run (or, once committed, the new one),
whole and consistent (its report's books balance and its ledger points at the right records);
a re-run then gives a folder byte-identical to a clean run, and no debris is left beside it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curadebt.curation.runner import PAUSE_ENV
from curadebt.curation.verify import verify_curate_output

#: every checkpoint of a run, in order (shard:k while the shards are written); "committed" is
#: after the folder switched to the new run
PAUSES = ["looked", "decided", "spilled", "shard:0", "shard:1", "shard:2", "applied", "checked", "reported",
          "committing", "committed"]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from curadebt.worlds.demo import generate_world

    tmp = tmp_path_factory.mktemp("kill")
    generate_world(tmp / "world", seed=1, n_docs=600)
    return tmp / "world"


def _args(world: Path, out: Path, seed: int = 5) -> list[str]:
    return ["curate", str(world / "corpus.jsonl"), "-o", str(out), "--source-field", "source",
            "--probes", str(world / "probes.jsonl"), "--shard-mb", "0.02", "--seed", str(seed), "-q"]


def _run_inprocess(args: list[str]) -> None:
    from typer.testing import CliRunner

    from curadebt.cli import app

    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output


def _start(args: list[str], pause: str | None) -> subprocess.Popen:
    env = dict(os.environ, CURADEBT_NO_PROGRESS="1")
    env.pop(PAUSE_ENV, None)
    if pause:
        env[PAUSE_ENV] = pause
    return subprocess.Popen([sys.executable, "-m", "curadebt.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)


def _kill_at_pause(proc: subprocess.Popen, pause: str) -> None:
    deadline = time.time() + 120
    for line in proc.stdout:  # type: ignore[union-attr]
        if line.strip() == f"CURADEBT-PAUSED {pause}":
            break
        assert time.time() < deadline
    else:
        raise AssertionError(f"the run ended before reaching {pause} (rc {proc.wait()})")
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def _assert_whole(out: Path) -> None:
    problems, counts = verify_curate_output(out, checksums=True)
    assert problems == [] and counts["references"] > 0


@pytest.fixture(scope="module")
def reference(world, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "out"
    _run_inprocess(_args(world, out))
    tree = _tree(out)
    assert len([k for k in tree if k.startswith("data/")]) >= 3  # several shards
    return tree


@pytest.mark.slow
def test_sigkill_at_every_checkpoint_over_an_older_run(world, reference, tmp_path):
    out = tmp_path / "out"
    _run_inprocess(_args(world, out, seed=11))  # the older run: other arguments, other bytes
    older = _tree(out)
    assert older != reference
    for pause in PAUSES:
        before = _tree(out)
        proc = _start(_args(world, out), pause)
        _kill_at_pause(proc, pause)
        now = _tree(out)
        if pause == "committed":
            assert now == reference, "after the switch the folder is the new run"
        else:
            assert now == before == older, f"killed at {pause}: --out changed"
        _assert_whole(out)
    proc = _start(_args(world, out, seed=11), "shard:1")  # one more, leaving a staging folder behind
    _kill_at_pause(proc, "shard:1")
    assert _tree(out) == reference
    debris = sorted(p.name for p in tmp_path.iterdir() if p.name != "out")
    assert any(".curadebt-staging-" in d for d in debris) and any(d.endswith(".curadebt-lock") for d in debris)
    _run_inprocess(_args(world, out))
    assert _tree(out) == reference
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "the re-run removed every leftover"
    _assert_whole(out)


@pytest.mark.slow
def test_sigkill_at_a_random_moment_then_rerun(world, reference, tmp_path):
    out = tmp_path / "out"
    proc = _start(_args(world, out), None)
    time.sleep(2.5)
    proc.kill()
    proc.wait(timeout=30)
    if out.exists():  # killed after the commit: already the new run
        assert _tree(out) == reference
    _run_inprocess(_args(world, out))
    assert _tree(out) == reference
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
