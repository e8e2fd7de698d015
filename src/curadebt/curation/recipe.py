"""Recipes: which operations a curate run applies, in which order, with which parameters.

A recipe is a YAML (or JSON) file::

    seed: 0
    ops:
      - exact_dedup
      - near_dedup: {keep: first, threshold: 0.5}
      - mixture: {method: temperature, alpha: 0.5, budget: auto, max_epochs: 1, when: debt}
      - entity_cap: {entities: auto, when: debt}
      - facts: {max_ratio: 3.0, when: debt}
      - order: {strategy: diverse}
    output: {format: jsonl, shard_bytes: 67108864}

An op is a bare name, ``{name: {params}}`` or ``{op: name, params...}``. Unknown ops or parameters
are errors that name the op and the key. Every op accepts ``when: always | debt``: with ``debt`` it
runs only when the audit of the input flags the debt dimension the op pays down (``duplicates``,
``salience``, ``probes``, ``mixture``, ``order``). The ops themselves are registered by their
modules in :mod:`curadebt.curation.ops` (:mod:`curadebt.curation.op`); the default recipe is the
packaged ``default_recipe.yaml``. The full reference is docs/curate.md.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from importlib import resources
from typing import Any

import yaml

from curadebt.core.config import read_yaml_or_json
from curadebt.curation.op import OPS, Op, RecipeError, make_op

__all__ = ["OPS", "Op", "OutputSpec", "Recipe", "RecipeError", "default_recipe", "default_recipe_text",
           "load_recipe", "make_op", "op_class", "recipe_from_dict"]


@dataclass
class OutputSpec:
    format: str = "jsonl"             # "jsonl" or "parquet"
    shard_bytes: int = 64 * 1024 * 1024

    def validate(self) -> None:
        if self.format not in ("jsonl", "parquet"):
            raise RecipeError(f"output: format must be 'jsonl' or 'parquet', got {self.format!r}")
        if int(self.shard_bytes) < 1:
            raise RecipeError("output: shard_bytes must be >= 1")


@dataclass
class Recipe:
    ops: list[Op] = field(default_factory=list)
    seed: int = 0
    output: OutputSpec = field(default_factory=OutputSpec)

    def validate(self) -> "Recipe":
        for op in self.ops:
            op.validate()
        self.output.validate()
        for i, op in enumerate(self.ops):
            op.check_in_recipe(self.ops, i)
        terminal = [op for op in self.ops if op.terminal]  # the output order: once, last
        if len(terminal) > 1:
            raise RecipeError(f"only one {' or '.join(sorted({op.name for op in terminal}))} op per recipe")
        if terminal and self.ops[-1] is not terminal[0]:
            raise RecipeError(f"the {terminal[0].name} op must come last")
        return self

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "ops": [{"op": op.name, **op.params()} for op in self.ops],
                "output": dataclasses.asdict(self.output)}

    def op(self, name: str) -> Op | None:
        return next((o for o in self.ops if o.name == name), None)


def _parse_op(item: Any, i: int) -> Op:
    if isinstance(item, str):
        return make_op(item)
    if isinstance(item, dict):
        if "op" in item:
            params = {k: v for k, v in item.items() if k != "op"}
            return make_op(str(item["op"]), params)
        if len(item) == 1:
            (name, params), = item.items()
            if params is not None and not isinstance(params, dict):
                raise RecipeError(f"op #{i + 1} ({name}): parameters must be a mapping, got {params!r}")
            return make_op(str(name), params)
    raise RecipeError(f"op #{i + 1}: expected a name, {{name: {{params}}}} or {{op: name, ...}}, got {item!r}")


def recipe_from_dict(data: dict[str, Any]) -> Recipe:
    if not isinstance(data, dict):
        raise RecipeError("a recipe is a mapping with 'ops' (and optionally 'seed', 'output')")
    unknown = sorted(set(data) - {"ops", "seed", "output"})
    if unknown:
        raise RecipeError(f"unknown recipe key(s) {unknown}; known: ['ops', 'output', 'seed']")
    ops_raw = data.get("ops")
    if not isinstance(ops_raw, list):
        raise RecipeError("recipe 'ops' must be a list")
    out_raw = data.get("output") or {}
    if not isinstance(out_raw, dict):
        raise RecipeError("recipe 'output' must be a mapping")
    bad = sorted(set(out_raw) - {"format", "shard_bytes"})
    if bad:
        raise RecipeError(f"output: unknown key(s) {bad}; known: ['format', 'shard_bytes']")
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise RecipeError(f"seed must be an integer, got {seed!r}")
    return Recipe(ops=[_parse_op(x, i) for i, x in enumerate(ops_raw)], seed=seed,
                  output=OutputSpec(**out_raw)).validate()


def load_recipe(path: str | Path) -> Recipe:
    """Read a recipe from a YAML or JSON file."""
    p = Path(path)
    data = read_yaml_or_json(p, RecipeError, "the recipe")
    try:
        return recipe_from_dict(data)
    except RecipeError as e:
        raise RecipeError(f"{p}: {e}") from e


def op_class(name: str) -> type[Op]:
    """The op class registered under ``name`` (``op_class("near_dedup")``)."""
    from curadebt.curation.op import op_type

    return op_type(name)


DEFAULT_RECIPE_FILE = "default_recipe.yaml"


def default_recipe_text() -> str:
    """The packaged default recipe, comments and all (``curadebt curate --print-recipe`` shows it
    resolved)."""
    return resources.files("curadebt.curation").joinpath(DEFAULT_RECIPE_FILE).read_text(encoding="utf-8")


def default_recipe(seed: int | None = None) -> Recipe:
    """The packaged default recipe: dedup always; rebalancing, caps and fact balancing only where the
    audit flags a debt; diversity-first order always."""
    recipe = recipe_from_dict(yaml.safe_load(default_recipe_text()))
    if seed is not None:
        recipe.seed = int(seed)
    return recipe
