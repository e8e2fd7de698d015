"""A curate run killed with SIGKILL at any point, then run again with the same arguments, ends with
output byte-identical to an uninterrupted run (a real subprocess, really killed)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curadebt.curate.runner import PAUSE_ENV


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from curadebt.demo.world import generate_world

    tmp = tmp_path_factory.mktemp("kill")
    generate_world(tmp / "world", seed=1, n_docs=600)
    return tmp / "world"


def _args(world: Path, out: Path) -> list[str]:
    return ["curate", str(world / "corpus.jsonl"), "-o", str(out), "--source-field", "source",
            "--probes", str(world / "probes.jsonl"), "--shard-mb", "0.02", "--seed", "5", "-q"]


def _run_inprocess(args: list[str]) -> None:
    from typer.testing import CliRunner

    from curadebt.curate.cli import _standalone

    res = CliRunner().invoke(_standalone(), args)
    assert res.exit_code == 0, res.output


def _start(args: list[str], pause: str | None) -> subprocess.Popen:
    env = dict(os.environ, CURADEBT_NO_PROGRESS="1")
    env.pop(PAUSE_ENV, None)
    if pause:
        env[PAUSE_ENV] = pause
    return subprocess.Popen([sys.executable, "-m", "curadebt.curate.cli", *args], stdout=subprocess.PIPE,
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


@pytest.fixture(scope="module")
def reference(world, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "out"
    _run_inprocess(_args(world, out))
    tree = _tree(out)
    assert len([k for k in tree if k.startswith("data/")]) >= 3  # several shards
    return tree


@pytest.mark.parametrize("pause", ["looked", "shard:1"])
def test_sigkill_then_rerun_is_byte_identical(world, reference, tmp_path, pause):
    out = tmp_path / "out"
    proc = _start(_args(world, out), pause)
    _kill_at_pause(proc, pause)
    left = _tree(out)
    if pause == "shard:1":  # killed mid-write: some shards written, spill files of the others left behind
        assert any(k.startswith("data/part-") for k in left) and any(".curadebt-work" in k for k in left)
        assert "ledger.parquet" not in left and "report.json" not in left
    else:
        assert "before/report.json" in left and not any(k.startswith("data/") for k in left)
    _run_inprocess(_args(world, out))
    assert _tree(out) == reference


def test_sigkill_at_a_random_moment_then_rerun(world, reference, tmp_path):
    out = tmp_path / "out"
    proc = _start(_args(world, out), None)
    time.sleep(2.5)
    proc.kill()
    proc.wait(timeout=30)
    _run_inprocess(_args(world, out))
    assert _tree(out) == reference
