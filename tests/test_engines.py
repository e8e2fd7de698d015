"""The same measures on every engine give identical results (issue: run audit and curate on Ray)."""
import json

import pytest

from curadebt.audit.runner import AuditConfig, audit


def _report(path, **kw):
    r = audit(path, config=AuditConfig(source_field="source", **kw)).to_json()
    r.pop("config")
    return json.dumps(r, sort_keys=True)


@pytest.fixture(scope="module")
def mixed(request):
    from conftest import shared_data_path

    return str(shared_data_path("mixed", "corpus.jsonl"))


@pytest.fixture(scope="module")
def single(mixed):
    return _report(mixed)


def test_local_two_workers_equal_single_process(mixed, single):
    assert _report(mixed, workers=2) == single


def test_ray_engine_equals_single_process(mixed, single):
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'curadebt[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        assert _report(mixed, engine="ray", workers=2) == single
    finally:
        ray.shutdown()


def test_unknown_engine_is_a_clear_error(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text('{"text": "hello world"}\n')
    with pytest.raises(ValueError, match="unknown engine"):
        audit(str(p), config=AuditConfig(engine="spark"))
