"""The audit: one streaming pass feeding every measure, a short prefix pass for training order,
then the debt score and the report (report.json, report.html, quarantine.jsonl)."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curadebt import engine
from curadebt.measures import registry
from curadebt.core.errors import EXIT_RECONCILIATION, CuradebtError
from curadebt.version import __version__
from curadebt.core.measure import Measure, to_jsonable
from curadebt.corpus.quarantine import Quarantine
from curadebt.corpus.readers import EmptyCorpusError, ReaderConfig, ReadStats, iter_batches, no_documents_message
from curadebt.progress import byte_progress, corpus_size_bytes
from curadebt.text.entities import get_extractor
from curadebt.text.tokenize import get_tokenizer

SCHEMA_VERSION = 1


@dataclass
class AuditConfig:
    """Every knob of an audit. The CLI flags map one to one onto these fields."""

    text_field: str = "text"
    id_field: str | None = "id"     # a record without it: its location (path:line)
    source_field: str | None = None
    max_record_bytes: int = 8 * 1024 * 1024
    batch_size: int = 1000
    format: str | None = None       # force one input format (default: by extension)
    split: str | None = None        # the split of a saved DatasetDict (default: all)
    source_from: str | None = None  # text files: "folder" or "file" as the source
    tokenizer: str = "words"
    # frequency
    max_n: int = 3
    count_budget: int = 2_000_000
    top_k: int = 50
    # duplicates (None = the measure's documented default)
    num_perm: int | None = None
    bands: int | None = None
    shingle_size: int | None = None
    threshold: float | None = None
    seed: int = 0
    # salience
    entity_extractor: str | None = None
    # probes
    probes: str | None = None
    # order
    order_fractions: tuple[float, ...] = (0.01, 0.05, 0.1)
    # engine
    engine: str = "local"          # "local" or "ray"
    workers: int = 1               # local: processes; ray: actors (and CPUs of a local Ray instance)
    ray_address: str | None = None

    def reader(self) -> ReaderConfig:
        return ReaderConfig(text_field=self.text_field, id_field=self.id_field, source_field=self.source_field,
                            max_record_bytes=self.max_record_bytes, batch_size=self.batch_size, format=self.format,
                            split=self.split, source_from=self.source_from)


@dataclass
class AuditReport:
    """Typed audit results; ``to_json()`` gives the report.json dict (see docs/report-schema.md)."""

    config: AuditConfig
    corpus: dict[str, Any]
    sections: dict[str, Any] = field(default_factory=dict)  # name -> result dataclass
    debt: Any = None
    seconds: float = 0.0

    def __getattr__(self, name: str):
        sections = self.__dict__.get("sections", {})
        if name in sections:
            return sections[name]
        raise AttributeError(name)

    def to_json(self) -> dict:
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "curadebt", "version": __version__},
            "config": to_jsonable(dataclasses.asdict(self.config)),
            "corpus": to_jsonable(self.corpus),
        }
        for name in registry.section_names():
            out[name] = to_jsonable(self.sections[name]) if name in self.sections else None
        out["debt"] = to_jsonable(self.debt)
        return out

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        from curadebt.core.atomic import write_json_atomic, write_text_atomic

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        data = self.to_json()
        paths = {"json": out_dir / "report.json", "html": out_dir / "report.html"}
        write_json_atomic(paths["json"], data)
        write_text_atomic(paths["html"], registry.render_report(data))
        return paths


def build_measures(cfg: AuditConfig) -> list[Measure]:
    """The streaming measures this config runs: every registered measure whose ``build`` gives one."""
    built = (spec.build(cfg) for spec in registry.specs() if spec.build is not None)
    return [m for m in built if m is not None]


def run_followups(paths, cfg: AuditConfig, tokenizer, extractor, sections: dict, tokens: int, progress: bool) -> None:
    """The follow-up measures (training order), in registry order, each when its inputs exist."""
    for spec in registry.specs():
        if spec.followup is not None and all(name in sections for name in spec.requires):
            ctx = registry.FollowupContext(paths, cfg, tokenizer, extractor, sections, tokens, progress)
            sections[spec.name] = spec.followup(ctx)


def corpus_section(stats: ReadStats, quarantine: Quarantine, tokens: int, cfg: AuditConfig) -> dict:
    return {
        "documents_read": stats.documents_read,
        "documents_audited": stats.documents_ok,
        "documents_quarantined": stats.documents_quarantined,
        "quarantine_reasons": dict(sorted(quarantine.counts.items())),
        "tokens": tokens,
        "bytes_read": stats.bytes_read,
        "decoded_with_fallback": stats.decoded_with_fallback,
        "files": stats.files,
        "skipped_paths": stats.skipped,
        "warnings": stats.warnings,
        "tokenizer": cfg.tokenizer,
    }


class ReconciliationError(CuradebtError, RuntimeError):
    exit_code = EXIT_RECONCILIATION
    label = "reconciliation failed"


def audit(paths, out: str | Path | None = None, config: AuditConfig | None = None, *, progress: bool = False,
          measures: list[Measure] | None = None, force: bool = False, **overrides) -> AuditReport:
    """Audit a corpus (file, folder, or list of them).

    ``config`` or keyword overrides (any :class:`AuditConfig` field) set the knobs. With ``out``,
    report.json, report.html, quarantine.jsonl and manifest.json are written there as one change
    (:mod:`curadebt.corpus.outdir`: ``out`` may not overlap the input, and a folder curadebt did
    not write is refused unless ``force``). A corpus with no document to audit raises
    :class:`~curadebt.corpus.readers.EmptyCorpusError` and writes nothing.
    """
    cfg = dataclasses.replace(config or AuditConfig(), **overrides)
    engine.get(cfg)  # fail before any work on a bad engine choice
    if out is None:
        return audit_into(paths, None, cfg, progress=progress, measures=measures)
    from curadebt.corpus.outdir import staged_output

    with staged_output(out, kind="audit", inputs=input_paths(paths), force=force) as stage:
        report = audit_into(paths, stage.dir, cfg, progress=progress, measures=measures)
        stage.commit()
    return report


def input_paths(paths) -> list:
    """The input paths of a corpus argument (one path, a list, quoted globs expanded), for the
    overlap check."""
    from curadebt.corpus.sources import expand_inputs

    return expand_inputs(paths)


def audit_into(paths, out_dir: Path | None, cfg: AuditConfig, *, progress: bool = False,
               measures: list[Measure] | None = None, require_documents: bool = True) -> AuditReport:
    """The audit itself, writing its files straight into ``out_dir`` (a folder the caller owns,
    e.g. a staging folder) when given."""
    t0 = time.perf_counter()
    tokenizer = get_tokenizer(cfg.tokenizer)
    extractor = get_extractor(cfg.entity_extractor)
    measures = measures if measures is not None else build_measures(cfg)
    quarantine = Quarantine(out_dir / "quarantine.jsonl" if out_dir else None)
    stats = ReadStats()

    eng = engine.get(cfg)
    with eng.executor() as executor:
        with byte_progress("audit", corpus_size_bytes(paths), enabled=progress) as advance:
            batches = iter_batches(paths, cfg.reader(), quarantine, stats, tokenizer, extractor)
            states = eng.run_pass(batches, measures, executor=executor,
                              on_batch=lambda b: advance(stats.bytes_read, stats.documents_read))
        quarantine.close()
        if stats.documents_read != stats.documents_ok + stats.documents_quarantined:
            raise ReconciliationError(f"read {stats.documents_read} != audited {stats.documents_ok} + "
                                      f"quarantined {stats.documents_quarantined}")
        if require_documents and stats.documents_ok == 0:
            raise EmptyCorpusError(no_documents_message(paths, stats, quarantine, cfg.text_field))
        sections = {m.name: m.finalize_on(states[m.name], executor) for m in measures}

    tokens = total_tokens(sections)
    run_followups(paths, cfg, tokenizer, extractor, sections, tokens, progress)
    report = AuditReport(cfg, corpus_section(stats, quarantine, tokens, cfg), sections)
    from curadebt.measures.debt import compute_debt

    report.debt = compute_debt(report.to_json())
    report.seconds = time.perf_counter() - t0
    if out_dir is not None:
        report.write(out_dir)
    return report


def total_tokens(sections: dict) -> int:
    if "frequency" in sections:
        return sections["frequency"].tokens
    if "mixture" in sections:
        return sum(s.tokens for s in sections["mixture"].sources)
    return 0


def _order_pass(paths, cfg, tokenizer, extractor, sections, tokens, progress):
    from curadebt.measures.order import order_measure

    overall_sources = {s.source: s.tokens for s in sections["mixture"].sources}
    overall_entities, entity_mentions = {}, 0
    sal = sections.get("salience")
    if sal is not None:
        overall_entities = {e.entity: e.mentions for e in sal.entities}
        entity_mentions = sal.entity_mentions
    batches = iter_batches(paths, cfg.reader(), Quarantine(), ReadStats(), tokenizer, extractor)
    dup = sections.get("duplicates")
    wanted = {c.representative_ordinal: c for c in dup.largest_clusters} if dup is not None else {}
    batches = _with_previews(batches, wanted)  # the start of each largest cluster's representative
    result = order_measure(batches, tokens, overall_sources, overall_entities, entity_mentions,
                           fractions=tuple(cfg.order_fractions))
    if any(not c.preview for c in wanted.values()):  # the order windows ended first: read on (no tokenising)
        for batch in batches:
            if all(c.preview for c in wanted.values()) or batch.first_ordinal > max(wanted):
                break
    return result


#: characters of a cluster representative's text shown in the report
PREVIEW_CHARS = 160


def _with_previews(batches, wanted: dict):
    for batch in batches:
        for d in batch.docs:
            c = wanted.get(d.ordinal)
            if c is not None:
                c.preview = " ".join(d.text[:PREVIEW_CHARS * 2].split())[:PREVIEW_CHARS]
        yield batch
