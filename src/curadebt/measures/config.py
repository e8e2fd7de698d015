"""The settings of an audit (one dataclass: the CLI's options, ``--config`` files, the API's keywords)."""
from __future__ import annotations

from dataclasses import dataclass

from curadebt.core.config import nested, setting
from curadebt.corpus.records import ReaderConfig
from curadebt.engine import EngineConfig
from curadebt.measures.probe_files import PROBES_HELP
from curadebt.text.entities import EXTRACTOR_HELP
from curadebt.text.tokenize import TOKENIZER_HELP


@dataclass
class AuditConfig:
    """Every knob of an audit; the CLI's options, ``--config`` files and :func:`audit`'s keywords
    are these fields (the nested ones by their own names: ``text_field``, ``workers``)."""

    reader: ReaderConfig = nested(ReaderConfig)
    tokenizer: str = setting("words", help=TOKENIZER_HELP)
    # frequency
    max_n: int = setting(3, help="Count n-grams for n = 1..MAX_N.")
    count_budget: int = setting(2_000_000, help="Distinct n-grams kept exactly per n; beyond it a heavy-hitter "
                                                "sketch with a stated error bound.")
    top_k: int = setting(50, help="Most frequent n-grams listed per n in the report.")
    # duplicates (None = the measure's documented default)
    num_perm: int | None = setting(None, help="MinHash permutations (near duplicates; default 128).")
    bands: int | None = setting(None, help="LSH bands (rows per band = num_perm / bands).")
    shingle_size: int | None = setting(None, help="Words per shingle for MinHash (default 3).")
    threshold: float | None = setting(None, help="Jaccard threshold for near duplicates (candidate pairs are "
                                                 "verified against it; default 0.5).")
    seed: int = setting(0, help="Seed for MinHash permutations; same seed, same bytes.")
    # salience
    entity_extractor: str | None = setting(None, help=EXTRACTOR_HELP)
    # probes
    probes: str | None = setting(None, help=PROBES_HELP)
    # order
    order_fractions: tuple[float, ...] = setting((0.01, 0.05, 0.1), cli=False,
                                                 help="Corpus prefixes (shares of the tokens) the order measure "
                                                      "compares with the whole.")
    execution: EngineConfig = nested(EngineConfig)
