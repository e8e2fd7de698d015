"""The Python API: :func:`audit`, :func:`curate` and :func:`explain`, as good as the CLI.

>>> import curadebt
>>> report = curadebt.audit("corpus.jsonl", source_field="source")                      # doctest: +SKIP
>>> report = curadebt.audit([{"text": "Tom Cruise ..."}, {"text": "..."}])              # doctest: +SKIP
>>> result = curadebt.curate(datasets.load_from_disk("ds"), "curated/")                  # doctest: +SKIP
>>> result.kept[:3], result.dropped(op="near_dedup")[:1], result.explain("doc-17")        # doctest: +SKIP

A corpus is a path (file, folder, quoted glob), a list of paths, records in memory (dicts or strings,
a pyarrow Table, a pandas DataFrame, a ``datasets`` Dataset / IterableDataset / DatasetDict) or any
iterable of records (:mod:`curadebt.inputs`). Every keyword left at ``None`` takes the value of
``config`` (or the dataclass default); ``**options`` sets any other field of
:class:`~curadebt.measures.config.AuditConfig` / :class:`~curadebt.curation.config.CurateConfig`.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the heavy modules load when a function is called, not on import
    from curadebt.curation.recipe import Recipe
    from curadebt.curation.config import CurateConfig
    from curadebt.curation.runner import CurateResult
    from curadebt.measures.config import AuditConfig
    from curadebt.measures.runner import AuditReport


def _config(cls, config, given: dict[str, Any], options: dict[str, Any]):
    """``config`` (or the defaults) with the keywords set, by their flat names (``text_field``)."""
    from curadebt.core.config import leaf_map, replace

    names = set(leaf_map(cls))
    bad = sorted(set(options) - names)
    if bad:
        raise TypeError(f"unknown option(s) {bad}; the options are the fields of {cls.__name__}: {sorted(names)}")
    base = config if config is not None else cls()
    return replace(base, **{k: v for k, v in given.items() if v is not None}, **options)


def audit(corpus: Any, out: str | Path | None = None, *, text_field: str | None = None, id_field: str | None = None,
          source_field: str | None = None, probes: str | Path | None = None, tokenizer: str | None = None,
          entity_extractor: str | None = None, engine: str | None = None, workers: int | None = None,
          config: "AuditConfig | None" = None, progress: bool = False, force: bool = False,
          **options: Any) -> "AuditReport":
    """Audit a corpus for curation debt.

    Args:
        corpus: a path, a list of paths, or records (see the module docstring).
        out: a folder for report.json, report.html, quarantine.jsonl and manifest.json (written as one
            change; it may not overlap the input). None: nothing is written.
        text_field: the field holding the text (default ``text``).
        id_field: the field holding the id (default ``id``; a record without it is named by its place).
        source_field: the field naming the source, for the mixture and order measures (default none).
        probes: competing facts to weigh (probes JSONL or CounterFact JSON).
        tokenizer: ``words`` (default), ``words-lower``, a tokenizer.json or a model folder.
        entity_extractor: ``capitalised`` (default), ``spacy`` or ``package.module:function``.
        engine, workers: ``local`` (default) or ``ray``, and the number of workers (default 1).
        config: an :class:`~curadebt.measures.config.AuditConfig` to start from.
        progress: show a progress bar. force: write into a folder curadebt did not write (keeping
            its files).
        **options: any other AuditConfig field (``max_n``, ``count_budget``, ``threshold``, ...).

    Returns:
        An :class:`~curadebt.measures.runner.AuditReport`: typed sections (``report.salience``,
        ``report.duplicates``...), ``report.debt`` and ``report.to_json()``.
    """
    from curadebt.inputs import corpus_inputs
    from curadebt.measures.config import AuditConfig
    from curadebt.measures.runner import audit as run

    given = dict(text_field=text_field, id_field=id_field, source_field=source_field,
                 probes=str(probes) if probes is not None else None, tokenizer=tokenizer,
                 entity_extractor=entity_extractor, engine=engine, workers=workers)
    cfg = _config(AuditConfig, config, given, options)
    with corpus_inputs(corpus) as inputs:
        return run(inputs, out, cfg, progress=progress, force=force)


def curate(corpus: Any, out: str | Path, recipe: "Recipe | str | Path | None" = None, *,
           text_field: str | None = None, id_field: str | None = None, source_field: str | None = None,
           probes: str | Path | None = None, tokenizer: str | None = None, entity_extractor: str | None = None,
           engine: str | None = None, workers: int | None = None, config: "CurateConfig | None" = None,
           progress: bool = False, force: bool = False, **options: Any) -> "CurateResult":
    """Pay the debt down: curate a corpus into ``out`` (data/ shards, ledger.parquet, report.json/html,
    before/, manifest.json), as one change at the end; the input is never written.

    Args:
        corpus: a path, a list of paths, or records (see the module docstring).
        out: the output folder (new, empty, or an earlier curate output; else ``force``).
        recipe: a :class:`~curadebt.curation.recipe.Recipe`, a YAML/JSON file, or None for the default
            recipe (docs/curate.md).
        text_field, id_field, source_field, probes, tokenizer, entity_extractor, engine, workers: as
            for :func:`audit`.
        config: a :class:`~curadebt.curation.config.CurateConfig` to start from.
        **options: any other CurateConfig field.

    Returns:
        A :class:`~curadebt.curation.runner.CurateResult`: ``reconciliation``, ``operations``,
        ``comparison`` (debt before -> after), ``kept``, ``dropped(op=...)``, ``explain(id)``.
    """
    from curadebt.curation.config import CurateConfig
    from curadebt.curation.runner import curate as run
    from curadebt.inputs import corpus_inputs

    given = dict(text_field=text_field, id_field=id_field, source_field=source_field,
                 probes=str(probes) if probes is not None else None, tokenizer=tokenizer,
                 entity_extractor=entity_extractor, engine=engine, workers=workers)
    cfg = _config(CurateConfig, config, given, options)
    with corpus_inputs(corpus) as inputs:
        return run(inputs, out, recipe, cfg, progress=progress, force=force)


def explain(doc_id: str, ledger: str | Path = "curated") -> str:
    """One document's history from a curate ledger (``ledger.parquet`` or its folder), as text."""
    from curadebt.curation.ledger import explain_text, lookup

    return explain_text(lookup(ledger, doc_id))
