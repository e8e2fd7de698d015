"""The Ray engine on a real two-node cluster on this machine: `ray start --head` and `ray start
--address` (two raylets, one CPU each, so the two workers must run on different nodes: on one node
the second would never be scheduled), the CLI joining it with `--ray-address` from its own process.
Audit and curate give the same outputs as one local process."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.realdata]

RAY = Path(sys.executable).parent / "ray"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")
    if not RAY.exists():
        pytest.skip(f"no ray command at {RAY}")
    tmp = tmp_path_factory.mktemp("ray")
    port = _free_port()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    common = ["--num-cpus=1", "--disable-usage-stats"]
    subprocess.run([str(RAY), "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1",
                    "--include-dashboard=false", f"--temp-dir={tmp}", "--resources", '{"node_a": 1}', *common],
                   check=True, env=env, capture_output=True)
    address = f"127.0.0.1:{port}"
    try:
        subprocess.run([str(RAY), "start", f"--address={address}", "--node-ip-address=127.0.0.1",
                        "--resources", '{"node_b": 1}', *common], check=True, env=env, capture_output=True)
        probe = ("import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False, configure_logging=False); "
                 "print(sum(1 for n in ray.nodes() if n['Alive']))")
        deadline = time.time() + 60
        while True:
            alive = subprocess.run([sys.executable, "-c", probe, address], env=env, capture_output=True, text=True)
            if alive.stdout.strip() == "2":
                break
            assert time.time() < deadline, f"the second node did not join: {alive.stdout} {alive.stderr[-500:]}"
            time.sleep(1)
        yield address, env
    finally:
        subprocess.run([str(RAY), "stop", "--force"], env=env, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def _cli(args: list[str], env: dict) -> None:
    r = subprocess.run([sys.executable, "-m", "curadebt.cli", *args], env={**env, "CURADEBT_NO_PROGRESS": "1"},
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr


def _outputs(out: Path) -> dict[str, str]:
    from test_engines import _outputs as outputs  # the same comparison as the local-engine tests

    return outputs(out)


def test_audit_and_curate_on_two_nodes_equal_one_process(cluster, tmp_path):
    from conftest import shared_data_path

    sys.path.insert(0, str(Path(__file__).parent))
    address, env = cluster
    corpus = str(shared_data_path("mixed", "corpus.jsonl"))
    ray_args = ["--engine", "ray", "--ray-address", address, "--workers", "2", "-q"]
    _cli(["audit", corpus, "--source-field", "source", "-o", str(tmp_path / "a1"), "-q"], env)
    _cli(["audit", corpus, "--source-field", "source", "-o", str(tmp_path / "a2"), *ray_args], env)
    one, two = (json.loads((tmp_path / d / "report.json").read_text()) for d in ("a1", "a2"))
    assert two["config"]["engine"] == "ray" and two["config"]["ray_address"] == address
    one.pop("config"), two.pop("config")
    assert one == two
    _cli(["curate", corpus, "--source-field", "source", "-o", str(tmp_path / "c1"), "-q"], env)
    _cli(["curate", corpus, "--source-field", "source", "-o", str(tmp_path / "c2"), *ray_args], env)
    assert _outputs(tmp_path / "c1") == _outputs(tmp_path / "c2")
