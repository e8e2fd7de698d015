"""The op registry: a new curate op is one file (registered on import) and runs end to end from a
recipe, with its decisions in the ledger and the books balanced; the rules every op keeps."""
from __future__ import annotations

import dataclasses
import json

import pytest

from curadebt.api import curate
from curadebt.curation.op import OPS, Op, RecipeError, make_op, register_op
from curadebt.curation.recipe import default_recipe, default_recipe_text, recipe_from_dict
from curadebt.core.registry import RegistryError

PLUGIN = '''
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from curadebt.curation.op import Op, RecipeError, register_op
from curadebt.curation.plan import DROP


@register_op
@dataclass
class DropShort(Op):
    """Drop documents under min_tokens tokens."""

    name: ClassVar[str] = "drop_short"
    dimension: ClassVar[str] = "duplicates"
    min_tokens: int = 5

    def validate(self):
        super().validate()
        if self.min_tokens < 1:
            raise RecipeError("drop_short: min_tokens must be >= 1")

    def apply(self, ctx, index):
        plan = ctx.plan
        s = plan.begin(self.name, self.params())
        short = np.flatnonzero((ctx.table.tokens < self.min_tokens) & (plan.copies > 0))
        plan.record(self.name, short, 0, DROP, f"under {self.min_tokens} tokens", -1)
        s.details = {"dropped_short": int(len(short))}
        return plan.end(s)
'''


@pytest.fixture
def plugin(tmp_path):
    from conftest import plugin_module

    with plugin_module(tmp_path, "drop_short_plugin", PLUGIN, OPS) as module:
        yield module
    OPS.remove("drop_short")


def _corpus(tmp_path):
    path = tmp_path / "c.jsonl"
    rows = [{"id": f"long{i}", "text": f"document number {i} says a good deal more than five words here"}
            for i in range(6)] + [{"id": f"short{i}", "text": f"tiny {i}"} for i in range(3)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_an_op_in_one_file_runs_end_to_end(plugin, tmp_path):
    recipe = recipe_from_dict({"ops": ["exact_dedup", {"drop_short": {"min_tokens": 4}}, "order"]})
    res = curate(_corpus(tmp_path), tmp_path / "out", recipe)
    assert res.reconciliation["ok"]
    assert sorted(d["id"] for d in res.dropped("drop_short")) == ["short0", "short1", "short2"]
    assert {d["reason"] for d in res.dropped("drop_short")} == {"under 4 tokens"}
    summary = next(s for s in res.operations if s.op == "drop_short")
    assert summary.ran and summary.details == {"dropped_short": 3}
    assert res.report["curate"]["recipe"]["ops"][1] == {"op": "drop_short", "when": "always", "min_tokens": 4}
    assert "drop_short" in (tmp_path / "out" / "report.html").read_text()


def test_an_op_with_when_debt_is_skipped_when_its_dimension_is_clean(plugin, tmp_path):
    recipe = recipe_from_dict({"ops": [{"drop_short": {"when": "debt"}}]})
    res = curate(_corpus(tmp_path), tmp_path / "out", recipe)
    summary = next(s for s in res.operations if s.op == "drop_short")
    assert not summary.ran and "does not flag duplicates" in summary.note
    assert res.dropped("drop_short") == []


def test_a_plugin_op_is_validated_like_a_builtin(plugin):
    with pytest.raises(RecipeError, match="min_tokens must be >= 1"):
        recipe_from_dict({"ops": [{"drop_short": {"min_tokens": 0}}]})
    with pytest.raises(RecipeError, match="unknown parameter"):
        recipe_from_dict({"ops": [{"drop_short": {"min_words": 3}}]})


def test_registering_a_second_op_under_a_taken_name_is_an_error():
    @dataclasses.dataclass
    class Impostor(Op):
        name = "near_dedup"

    with pytest.raises(RegistryError, match="registered twice"):
        register_op(Impostor)
    assert OPS.get("near_dedup").__module__ == "curadebt.curation.ops.dedup"


def test_unknown_op_lists_the_registered_ones():
    with pytest.raises(RecipeError, match="unknown op 'frobnicate'; known: exact_dedup, near_dedup"):
        make_op("frobnicate")


#: the ops that need a parameter to be valid at all
REQUIRED_PARAMS = {"semantic_dedup": {"model": None}, "normalize": {"alpha": 0.5},
                   "decontaminate": {"documents": "contaminated.jsonl"}}


@pytest.mark.parametrize("name", OPS.names())
def test_every_registered_op_keeps_the_contract(name):
    cls = OPS.get(name)
    assert dataclasses.is_dataclass(cls) and issubclass(cls, Op) and cls.name == name
    assert cls.__doc__ and cls.__doc__.strip(), "the class docstring is the op's recipe reference"
    assert cls.dimension, "when: debt needs the dimension the op pays down"
    assert cls.apply is not Op.apply, "an op applies its decisions"
    op = make_op(name, REQUIRED_PARAMS.get(name))
    # the defaults survive the recipe's JSON round trip
    again = recipe_from_dict(json.loads(json.dumps({"ops": [{"op": name, **op.params()}]})))
    assert again.ops[0] == op


def test_the_default_recipe_is_the_packaged_yaml():
    text = default_recipe_text()
    assert text.startswith("# curadebt's default recipe")
    rec = default_recipe()
    assert [o.name for o in rec.ops] == ["exact_dedup", "near_dedup", "mixture", "entity_cap", "facts", "order"]
    assert [o.when for o in rec.ops] == ["always", "always", "debt", "debt", "debt", "always"]
    # every value the YAML spells out is the op's default: the file documents, it does not tune
    for op in rec.ops:
        assert op == type(op)(when=op.when)
    assert default_recipe(seed=5).seed == 5 and default_recipe().seed == 0
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "curate.md"
    assert text in docs.read_text(encoding="utf-8"), "docs/curate.md shows the packaged default recipe verbatim"
