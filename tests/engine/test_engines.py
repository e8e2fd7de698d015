"""The same steps on every engine give identical results (issue 7: run audit and curate on Ray).

The curate runs below cover the audit too: ``before/report.json`` is the audit of the input (every
measure, on the engine) and ``report.json`` the audit of the output. One Ray instance (2 CPUs) is
started for the module.
"""
import hashlib
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from curadebt.measures.duplicates import DuplicatesMeasure
from curadebt.measures.lsh import best_matches, block_starts, lsh_cluster_on
from curadebt.measures.minhash import MinHasher, lsh_cluster
from curadebt.core.config import build
from curadebt.measures.runner import AuditConfig, audit
from curadebt.corpus.batch import Batch
from curadebt.core.document import Document
from curadebt.engine.api import SerialExecutor
from curadebt.engine.local import EngineError, LocalExecutor


# -- planted near duplicates (fast, synthetic: exercises every LSH stage) -----------------------

def _planted(seed: int = 0) -> list[list[str]]:
    """Clusters of edited copies, exact copies, a boilerplate bucket larger than the LSH window."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(3000)]
    docs = []
    for _ in range(150):
        base = list(rng.choice(vocab, 60))
        docs.append(base)
        for _ in range(int(rng.integers(0, 4))):
            d = list(base)
            for _ in range(int(rng.integers(0, 6))):
                d[int(rng.integers(0, 60))] = str(rng.choice(vocab))
            docs.append(d)
        if rng.random() < 0.1:
            docs.append(list(base))  # exact copy
    boiler = list(rng.choice(vocab, 40))
    for i in range(70):  # 70 near-identical documents: buckets far beyond BUCKET_WINDOW (32)
        d = list(boiler)
        d[int(rng.integers(0, 40))] = f"x{i}"
        docs.append(d)
    return [docs[i] for i in rng.permutation(len(docs))]


def _run_lsh(ex, sigs, block_rows):
    starts = block_starts(len(sigs), ex.workers, block_rows=block_rows)
    blocks = [ex.put(sigs[starts[b]:starts[b + 1]]) for b in range(len(starts) - 1)]
    return lsh_cluster_on(ex, blocks, starts, 32, 0.5, seed=3)


def _assert_same_lsh(got, ref, sigs):
    sim, partner = best_matches(len(sigs), ref.verified_pairs, ref.estimates)
    assert got.candidate_pairs == ref.candidate_pairs
    assert got.verified_pairs == len(ref.verified_pairs)
    assert np.array_equal(got.roots, ref.roots)
    assert np.array_equal(got.best_partner, partner)
    assert np.array_equal(got.best_similarity, sim, equal_nan=True)


@pytest.fixture(scope="module")
def planted_sigs():
    sigs = MinHasher(128, 3, seed=3).signatures(_planted())
    ref = lsh_cluster(sigs, 32, 0.5, seed=3)
    assert len(np.unique(ref.roots)) < len(sigs) - 100  # the data really has clusters
    return sigs, ref


@pytest.mark.parametrize("block_rows", [7, 37, 10_000])
def test_lsh_grouping_as_tasks_equals_one_process(planted_sigs, block_rows):
    sigs, ref = planted_sigs
    _assert_same_lsh(_run_lsh(SerialExecutor(), sigs, block_rows), ref, sigs)


def test_lsh_grouping_in_worker_processes(planted_sigs):
    sigs, ref = planted_sigs
    with LocalExecutor(2) as ex:
        _assert_same_lsh(_run_lsh(ex, sigs, 100), ref, sigs)
        spill = Path(ex.dir)
        assert spill.is_dir()
    assert not spill.exists()  # spill folder removed


@pytest.mark.parametrize("path", ["one task", "bands split", "staged"])
@pytest.mark.parametrize("detached", [False, True])
def test_duplicates_measure_on_an_executor_equals_finalize(detached, path, monkeypatch):
    # staged: the grouping as the staged tasks (above ONE_TASK_BYTES of signatures); else in one
    # task's memory, as one task (one worker) or with the bands split over 3 (three workers)
    import curadebt.measures.dupclusters as dc

    monkeypatch.setattr(dc, "ONE_TASK_BYTES", 0 if path == "staged" else 1 << 40)
    texts = [" ".join(d) for d in _planted(1)]
    m = DuplicatesMeasure(seed=3)
    ex = SerialExecutor()
    ex.workers = 3 if path == "bands split" else 1
    workers = [m.empty(), m.empty()]  # batches dealt to two "workers" out of order
    for k, b0 in enumerate(range(0, len(texts), 100)):
        m.accumulate(workers[k % 2], Batch([Document(id=f"d{i}", text=t, ordinal=i) for i, t in
                                            enumerate(texts[b0:b0 + 100], start=b0)]))
    one = m.finalize(m.merge(workers[0], workers[1]))
    if detached:  # signatures left in the engine's store by the workers
        workers = [m.detach(w, ex.put) for w in workers]
        with pytest.raises(RuntimeError, match="finalize_on"):
            m.finalize(m.merge(workers[1], workers[0]))
    dist = m.finalize_on(m.merge(workers[1], workers[0]), ex)
    assert json.dumps(_plain(one), sort_keys=True) == json.dumps(_plain(dist), sort_keys=True)
    assert one.near_clusters > 5 and one.exact_duplicate_documents > 0
    a, b = one.assignments, dist.assignments
    for f in ("representative", "exact_of", "kind", "cluster", "best_partner"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    assert np.array_equal(a.best_similarity, b.best_similarity, equal_nan=True)
    assert (b.pairs is None) == detached  # an engine never collects the pairs it left in its store


def _plain(result):
    from curadebt.core.measure import to_jsonable

    return to_jsonable(result)


def test_a_dead_task_worker_raises_instead_of_hanging():
    with LocalExecutor(2) as ex, pytest.raises(EngineError, match="died"):
        ex.map(os._exit, [(3,)])  # the worker process exits mid-task


# -- errors -----------------------------------------------------------------------------------

def test_unknown_engine_is_a_clear_error(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text('{"text": "hello world"}\n')
    with pytest.raises(ValueError, match="unknown engine"):
        audit(str(p), config=build(AuditConfig, engine="spark"))
    with pytest.raises(ValueError, match="workers must be >= 1"):
        audit(str(p), config=build(AuditConfig, workers=0))


def test_missing_ray_is_a_clear_error(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from curadebt.cli import app
    from curadebt.curation.runner import curate

    p = tmp_path / "a.jsonl"
    p.write_text('{"text": "hello world"}\n')
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(RuntimeError, match=r"pip install -e '\.\[ray\]'"):
        audit(str(p), engine="ray")
    with pytest.raises(RuntimeError, match=r"pip install -e '\.\[ray\]'"):
        curate(str(p), tmp_path / "out", engine="ray")
    assert not (tmp_path / "out").exists()  # failed before doing anything
    res = CliRunner().invoke(app, ["audit", str(p), "--engine", "ray", "-o", str(tmp_path / "rep"), "-q"])
    assert res.exit_code != 0 and ".[ray]" in res.output.replace("\n", "")


# -- the mixed corpus: curate (and its audits) on local x2 and Ray equal one process -------------

@pytest.fixture(scope="module")
def mixed():
    from conftest import shared_data_path

    return str(shared_data_path("mixed", "corpus.jsonl"))


def _curate(mixed, out, **engine):
    from curadebt.curation.runner import curate

    curate(mixed, out, source_field="source", **engine)
    return out


def _outputs(out: Path) -> dict[str, str]:
    """Every output file: bytes for data shards and the ledger; reports (JSON and HTML) without
    their config (which names the engine)."""
    res = {}
    for p in sorted(out.rglob("*")):
        if not p.is_file() or p.name == "manifest.json":  # the manifest holds report.json's checksum
            continue
        rel = str(p.relative_to(out))
        if p.suffix == ".html":  # drawn section by section by the workers on an engine
            res[rel] = without_run_config(p.read_text())
        elif p.suffix == ".json":
            d = json.loads(p.read_text())
            d.pop("config", None)
            if "curate" in d:
                d["curate"].pop("config", None)
            res[rel] = json.dumps(d, sort_keys=True)
        else:
            res[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return res


def without_run_config(page: str) -> str:
    return re.sub(r"<details><summary>Run configuration</summary>.*?</details>", "", page, flags=re.S)


def test_audit_page_drawn_by_workers_equals_one_process(tmp_path):
    """On an engine the workers draw the page's sections as the results come: the same page."""
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(300)] + ["Tom Cruise", "Paris", "France"] * 20
    corpus = tmp_path / "corpus.jsonl"
    with corpus.open("w") as f:
        for i in range(800):
            text = " ".join(rng.choice(words, size=40)) + (" the capital of France is Paris" if i % 3 else "")
            f.write(json.dumps({"id": str(i), "text": text, "source": ["web", "books", "code"][i % 3]}) + "\n")
    pages = []
    for w in (1, 2):
        audit(str(corpus), tmp_path / f"x{w}", source_field="source", workers=w)
        pages.append(without_run_config((tmp_path / f"x{w}" / "report.html").read_text()))
    assert pages[0] == pages[1]
    assert "<svg" in pages[0] and 'id="sfrequency-fig1' in pages[0]


def test_a_section_changed_after_it_was_drawn_is_drawn_again():
    from curadebt.measures.runner import still_drawn

    drawn = {"mixture": ({"sources": [1]}, "<old>"), "order": ({"k": 2}, "<order>")}
    assert still_drawn({"mixture": {"sources": [1, 2]}, "order": {"k": 2}}, drawn) == {"order": "<order>"}
    assert still_drawn({"mixture": {"sources": [1]}}, None) == {}


@pytest.fixture(scope="module")
def single(mixed, tmp_path_factory):
    out = _outputs(_curate(mixed, tmp_path_factory.mktemp("single")))
    assert {"ledger.parquet", "report.json", "before/report.json"} <= set(out)
    assert any(k.startswith("data/part-") for k in out)
    return out


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.mark.realdata
@pytest.mark.slow
def test_curate_on_two_local_workers_equals_one_process(mixed, single, tmp_path):
    assert _outputs(_curate(mixed, tmp_path / "x2", workers=2)) == single


@pytest.mark.realdata
@pytest.mark.slow
def test_curate_on_ray_equals_one_process(mixed, single, local_ray, tmp_path):
    assert _outputs(_curate(mixed, tmp_path / "ray", engine="ray", workers=2)) == single


def test_lsh_grouping_as_ray_tasks(planted_sigs, local_ray):
    from curadebt.engine.ray_engine import RayExecutor

    sigs, ref = planted_sigs
    _assert_same_lsh(_run_lsh(RayExecutor(2), sigs, 100), ref, sigs)
