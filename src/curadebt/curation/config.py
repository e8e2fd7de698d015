"""The settings of a curate run besides its recipe (one dataclass: the CLI's options, ``--config``
files, the API's keywords)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curadebt.core.config import nested, setting
from curadebt.corpus.records import ReaderConfig
from curadebt.engine import EngineConfig
from curadebt.measures.config import AuditConfig
from curadebt.measures.probe_files import PROBES_HELP
from curadebt.text.entities import EXTRACTOR_HELP
from curadebt.text.tokenize import TOKENIZER_HELP

if TYPE_CHECKING:
    from curadebt.curation.recipe import Recipe


@dataclass
class CurateConfig:
    """How to read the corpus and run the audits (the CLI's options, ``--config`` files and
    :func:`curate`'s keywords). The recipe says what to do to it."""

    reader: ReaderConfig = nested(ReaderConfig)
    tokenizer: str = setting("words", help=TOKENIZER_HELP)
    entity_extractor: str | None = setting(None, help=EXTRACTOR_HELP)
    probes: str | None = setting(None, help=PROBES_HELP)
    count_budget: int = setting(AuditConfig.count_budget, help="Distinct n-grams the before and after audits keep "
                                                              "exactly per n (as audit's --count-budget).")
    execution: EngineConfig = nested(EngineConfig)

    def audit_config(self, recipe: Recipe) -> AuditConfig:
        """The settings of the before and after audits: these, the recipe's seed, and the near-dedup
        op's MinHash settings (the op acts on the clusters that audit finds)."""
        near = recipe.op("near_dedup")
        kw: dict[str, Any] = {}
        if near is not None:
            kw = {k: getattr(near, k) for k in ("num_perm", "bands", "shingle_size", "threshold")}
        return AuditConfig(reader=dataclasses.replace(self.reader), tokenizer=self.tokenizer,
                           entity_extractor=self.entity_extractor, probes=self.probes, seed=recipe.seed,
                           count_budget=self.count_budget,
                           execution=dataclasses.replace(self.execution), **kw)
