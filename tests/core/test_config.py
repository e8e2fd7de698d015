"""One config mechanism: dataclass fields feed the CLI options, --config YAML files and the API."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from curadebt.cli import app
from curadebt.core import config as C
from curadebt.curation.config import CurateConfig
from curadebt.curation.flags import RecipeFlags
from curadebt.measures.config import AuditConfig

runner = CliRunner()


def test_nested_fields_are_addressed_flat_and_recorded_flat_in_order():
    cfg = C.build(AuditConfig, text_field="body", workers=3, max_n=2)
    assert cfg.reader.text_field == "body" and cfg.execution.workers == 3 and cfg.max_n == 2
    flat = C.flat_dict(cfg)
    names = list(flat)
    assert names[:3] == ["text_field", "id_field", "source_field"] and names[-4:] == ["engine", "workers", "ray_address", "spill_dir"]
    assert flat["text_field"] == "body" and "reader" not in flat
    again = C.replace(cfg, text_field="text")
    assert again.reader.text_field == "text" and cfg.reader.text_field == "body", "replace copies, never shares"


def test_unknown_settings_name_the_key_and_the_known_ones():
    with pytest.raises(C.ConfigError, match=r"unknown setting\(s\) \['text_feild'\]"):
        C.build(AuditConfig, text_feild="body")
    with pytest.raises(C.ConfigError, match="reader.colour: unknown setting; known: .*text_field"):
        C.from_mapping(AuditConfig, {"reader": {"colour": "blue"}})


def test_a_mapping_may_nest_or_not():
    a = C.from_mapping(CurateConfig, {"reader": {"text_field": "body"}, "execution": {"workers": 2}})
    b = C.from_mapping(CurateConfig, {"text_field": "body", "workers": 2})
    assert a == b and a.reader.text_field == "body"


def test_every_flat_name_is_unique_in_each_command():
    for classes in ((AuditConfig,), (CurateConfig, RecipeFlags)):
        names = [leaf.name for cls in classes for leaf in C.leaves(cls)]
        assert len(names) == len(set(names)), names
        assert all(leaf.help for cls in classes for leaf in C.leaves(cls)), "every setting has its help text"


def test_the_audit_command_options_are_the_config_fields():
    cmd = next(c for c in app.registered_commands if c.name == "audit" or c.callback.__name__ == "audit")
    import inspect

    params = set(inspect.signature(cmd.callback).parameters)
    cli_fields = {leaf.name for leaf in C.leaves(AuditConfig) if leaf.field.metadata.get("cli", True)}
    assert cli_fields <= params
    assert params - cli_fields == {"corpus", "out", "force", "quiet", "config_file", "cli_context"}


def _corpus(tmp_path):
    p = tmp_path / "c.jsonl"
    rows = [{"key": f"d{i}", "body": f"document {i} about Ada Lovelace and the engine {i % 3}", "src": "ab"[i % 2]}
            for i in range(40)]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


def test_audit_reads_a_config_file_and_a_typed_flag_overrides_it(tmp_path):
    corpus = _corpus(tmp_path)
    cfg = tmp_path / "audit.yaml"
    cfg.write_text("reader:\n  text_field: body\n  id_field: key\nsource_field: src\nmax_n: 2\n"
                   "order_fractions: [0.02, 0.2]\n")
    res = runner.invoke(app, ["audit", str(corpus), "-o", str(tmp_path / "a"), "--config", str(cfg), "-q",
                              "--max-n", "1"])
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "a" / "report.json").read_text())
    assert rep["config"]["text_field"] == "body" and rep["config"]["source_field"] == "src"
    assert rep["config"]["max_n"] == 1, "the typed flag wins over the file"
    assert {s["source"] for s in rep["mixture"]["sources"]} == {"a", "b"}
    assert rep["corpus"]["documents_audited"] == 40
    assert rep["config"]["order_fractions"] == [0.02, 0.2], "a setting with no flag comes from the file"
    assert [w["fraction"] for w in rep["order"]["windows"]] == [0.02, 0.2]


def test_a_bad_config_file_is_a_usage_error_that_names_the_key(tmp_path):
    corpus = _corpus(tmp_path)
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("text_feild: body\n")
    res = runner.invoke(app, ["audit", str(corpus), "-o", str(tmp_path / "a"), "--config", str(cfg), "-q"])
    assert res.exit_code == 2 and "text_feild" in res.output and "config error" in res.output
    cfg.write_text("- a list\n")
    res = runner.invoke(app, ["audit", str(corpus), "-o", str(tmp_path / "a"), "--config", str(cfg), "-q"])
    assert res.exit_code == 2 and "mapping of settings" in res.output
    assert not (tmp_path / "a").exists()


def test_curate_config_file_sets_reader_and_recipe_flags(tmp_path):
    cfg = tmp_path / "curate.yaml"
    cfg.write_text("text_field: body\nid_field: key\nmixture: none\norder: keep\nseed: 7\n")
    res = runner.invoke(app, ["curate", str(_corpus(tmp_path)), "-o", str(tmp_path / "c"), "--config", str(cfg),
                              "--print-recipe"])
    assert res.exit_code == 0, res.output
    rec = json.loads(res.output)
    assert rec["seed"] == 7 and [o["op"] for o in rec["ops"]][-1] == "order"
    assert "mixture" not in [o["op"] for o in rec["ops"]] and rec["ops"][-1]["strategy"] == "keep"
    res = runner.invoke(app, ["curate", str(_corpus(tmp_path)), "-o", str(tmp_path / "c"), "--config", str(cfg), "-q"])
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "c" / "report.json").read_text())
    assert rep["curate"]["config"]["text_field"] == "body"
