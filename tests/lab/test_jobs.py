"""lab jobs: results reused on rerun, the same results in worker processes, workers that die with the run."""
import os
import signal
import subprocess
import sys
import textwrap
import time

from curadebt.lab.jobs import run_jobs, settings_key


def square(job: int, offset: int) -> dict:
    return {"value": job * job + offset}


def test_results_by_job_reused_on_rerun_and_equal_in_workers(tmp_path):
    key = settings_key({"offset": 1})
    one, ran = run_jobs([1, 2, 3], square, (1,), out=tmp_path, key=key, name=lambda j: f"j{j}")
    assert {j: r["value"] for j, r in one.items()} == {1: 2, 2: 5, 3: 10} and len(ran) == 3
    again, ran = run_jobs([1, 2, 3, 4], square, (1,), out=tmp_path, key=key, name=lambda j: f"j{j}")
    assert list(ran) == ["j4"] and again[4]["value"] == 17  # only the new job runs
    other, ran = run_jobs([1], square, (5,), out=tmp_path, key=settings_key({"offset": 5}), name=lambda j: f"j{j}")
    assert other[1]["value"] == 6 and list(ran) == ["j1"]  # another key: not reused
    par, _ = run_jobs([5, 6], square, (1,), out=tmp_path / "p", key=key, name=lambda j: f"j{j}", workers=2)
    assert {j: r["value"] for j, r in par.items()} == {5: 26, 6: 37}


def test_workers_die_when_the_run_is_killed(tmp_path):
    pids = tmp_path / "pids"
    script = textwrap.dedent(f"""
        import os, time
        from pathlib import Path
        from curadebt.lab.jobs import run_jobs

        def slow(job):
            with open({str(pids)!r}, "a") as fh:
                fh.write(str(os.getpid()) + "\\n")
            time.sleep(60)
            return {{}}

        if __name__ == "__main__":
            run_jobs([1, 2], slow, (), out=Path({str(tmp_path)!r}), key="k", name=str, workers=2)
    """)
    (tmp_path / "run.py").write_text(script)
    proc = subprocess.Popen([sys.executable, str(tmp_path / "run.py")], cwd=tmp_path)
    deadline = time.time() + 60
    while time.time() < deadline and (not pids.exists() or len(pids.read_text().split()) < 2):
        time.sleep(0.2)
    workers = [int(p) for p in pids.read_text().split()]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    alive = workers
    while time.time() < deadline and alive:
        alive = [p for p in workers if _alive(p)]
        time.sleep(0.2)
    assert alive == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) is dead
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"
    except OSError:
        return False
