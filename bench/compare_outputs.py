"""Outputs before and after a refactor: the demo, an audit of the mixed corpus and a default curate of
it, reduced to one digest per file (JSON compared without the tool version; everything else byte for
byte), so a restructure can show that behaviour did not change.

    python bench/compare_outputs.py --save before.json      # on the old commit
    python bench/compare_outputs.py --against before.json   # on the new one: prints what differs

Run from the project root with ../shared/data beside it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIXED = ROOT.parent / "shared" / "data" / "mixed" / "corpus.jsonl"


def _digest(path: Path, tmp: Path) -> str:
    if path.suffix == ".json":
        # paths inside the run's temporary folder differ between runs: compare them relative to it
        data = json.loads(path.read_text(encoding="utf-8").replace(json.dumps(str(tmp))[1:-1], "<tmp>"))
        data.pop("tool", None)
        if isinstance(data.get("curate"), dict):
            data["curate"].pop("tool", None)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): _digest(p, root.parent) for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "manifest.json" and p.suffix != ".html"}


def _run(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "curadebt.cli", *args], check=True, stdout=subprocess.DEVNULL,
                   env={"CURADEBT_NO_PROGRESS": "1", **__import__("os").environ})


def outputs() -> dict[str, dict[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _run("demo", "--out", str(t / "demo"), "-q")
        _run("audit", str(MIXED), "--source-field", "source", "-o", str(t / "audit"), "-q")
        _run("curate", str(MIXED), "--source-field", "source", "-o", str(t / "curate"), "-q")
        return {name: _tree(t / name) for name in ("demo", "audit", "curate")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--save", type=Path)
    p.add_argument("--against", type=Path)
    a = p.parse_args()
    got = outputs()
    if a.save:
        a.save.write_text(json.dumps(got, indent=1, sort_keys=True))
    if a.against:
        want = json.loads(a.against.read_text())
        diffs = [f"{run}/{f}: {want[run].get(f)} -> {got[run].get(f)}" for run in want
                 for f in sorted(set(want[run]) | set(got[run])) if want[run].get(f) != got[run].get(f)]
        print("\n".join(diffs) if diffs else f"identical: {sum(len(v) for v in got.values())} files in 3 runs")
        sys.exit(1 if diffs else 0)
    if not a.save:
        print(json.dumps(got, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
