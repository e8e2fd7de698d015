"""Workers never outlive their run: a driver killed by SIGKILL mid-pass takes its worker processes
(and the fork server they came from) with it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

DRIVER = """
import sys
def main():
    import curadebt
    curadebt.audit(sys.argv[1], workers=2)
if __name__ == "__main__":
    main()
"""


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(p.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killed_run_leaves_no_worker(tmp_path):
    corpus = tmp_path / "c.jsonl"
    with corpus.open("w") as fh:
        for i in range(60_000):
            fh.write(json.dumps({"text": f"Document {i} of Tom Cruise and New York " + "word " * (i % 50)}) + "\n")
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    proc = subprocess.Popen([sys.executable, str(script), str(corpus)], cwd=tmp_path)
    deadline = time.time() + 60
    while len(kids := _descendants(proc.pid)) < 3:  # the fork server (or none) and two workers
        assert proc.poll() is None, "the run ended before its workers were seen"
        assert time.time() < deadline, "no workers started"
        time.sleep(0.2)
    time.sleep(1.0)  # mid-pass
    kids = _descendants(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 15
    while any(_alive(k) for k in kids) and time.time() < deadline:
        time.sleep(0.2)
    assert not [k for k in kids if _alive(k)], "worker processes outlived the killed run"
