"""The audit: one streaming pass feeding every measure, a short prefix pass for training order,
then the debt score and the report (report.json, report.html, quarantine.jsonl)."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from curadebt import engine
from curadebt.core.config import flat_dict, replace as config_replace
from curadebt.measures.config import AuditConfig
from curadebt.measures import registry
from curadebt.core.errors import EXIT_RECONCILIATION, CuradebtError
from curadebt.version import __version__
from curadebt.core.measure import Measure, to_jsonable
from curadebt.core.memory import release_free_memory
from curadebt.corpus.quarantine import Quarantine
from curadebt.corpus.readers import EmptyCorpusError, ReadStats, no_documents_message
from curadebt.engine.passes import PassInput
from curadebt.progress import byte_progress, corpus_size_bytes
from curadebt.text.entities import get_extractor
from curadebt.text.tokenize import get_tokenizer

SCHEMA_VERSION = 1
#: what an engine's workers load before a pass: the measures and their compiled functions
WORKER_PRELOAD = ("curadebt.measures.warmup",)


@dataclass
class AuditReport:
    """Typed audit results; ``to_json()`` gives the report.json dict (see docs/report-schema.md)."""

    config: AuditConfig
    corpus: dict[str, Any]
    sections: dict[str, Any] = field(default_factory=dict)  # name -> result dataclass
    debt: Any = None
    seconds: float = 0.0
    #: the page's measure sections drawn by an engine's workers (name -> (section, HTML)), if they were
    drawn: dict[str, tuple] | None = field(default=None, repr=False)

    def __getattr__(self, name: str):
        sections = self.__dict__.get("sections", {})
        if name in sections:
            return sections[name]
        raise AttributeError(name)

    def to_json(self) -> dict:
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "curadebt", "version": __version__},
            "config": to_jsonable(flat_dict(self.config)),
            "corpus": to_jsonable(self.corpus),
        }
        for name in registry.section_names():
            out[name] = to_jsonable(self.sections[name]) if name in self.sections else None
        out["debt"] = to_jsonable(self.debt)
        return out

    def write(self, out_dir: str | Path, html: bool = True) -> dict[str, Path]:
        """report.json, and report.html unless ``html`` is False (see :meth:`write_html`)."""
        from curadebt.core.atomic import write_json_atomic

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {"json": out_dir / "report.json", "html": out_dir / "report.html"}
        write_json_atomic(paths["json"], self.to_json())
        if html:
            self.write_html(out_dir)
        return paths

    def write_html(self, out_dir: str | Path) -> Path:
        """report.html (its plots take a second or two: curate has it drawn while it decides; on
        an engine the workers drew the sections as the results came: ``drawn``)."""
        return write_report_html(self.to_json(), out_dir, self.drawn)


def write_report_html(data: dict, out_dir: str | Path, drawn: dict | None = None) -> Path:
    """An audit's report.html from its report.json dict (an engine task too); ``drawn``: sections
    drawn already (:func:`still_drawn`)."""
    from curadebt.core.atomic import write_text_atomic

    path = Path(out_dir) / "report.html"
    write_text_atomic(path, registry.render_report(data, drawn=still_drawn(data, drawn)))
    return path


def still_drawn(data: dict, drawn: dict | None) -> dict[str, str]:
    """The drawn sections (``{name: (section, html)}``, :class:`SectionDrawing`) whose section is
    still the report's (a caller may have changed the report since): {name: html}."""
    return {name: html for name, (section, html) in (drawn or {}).items() if data.get(name) == section}


def build_measures(cfg: AuditConfig) -> list[Measure]:
    """The streaming measures this config runs: every registered measure whose ``build`` gives one."""
    built = (spec.build(cfg) for spec in registry.specs() if spec.build is not None)
    return [m for m in built if m is not None]


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
    cfg = config_replace(config or AuditConfig(), **overrides)
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
               measures: list[Measure] | None = None, require_documents: bool = True,
               session: engine.Session | None = None, html: bool = True, draw: bool | None = None) -> AuditReport:
    """The audit itself, writing its files straight into ``out_dir`` (a folder the caller owns,
    e.g. a staging folder) when given (report.html only with ``html``). ``session``: the engine's
    workers when the caller keeps them for several passes (curate does); else the audit opens its
    own. ``draw``: have the engine's workers draw the page's sections as the results come
    (``report.drawn``; default: when this writes report.html)."""
    if session is None:
        with engine.get(cfg).session(preload=WORKER_PRELOAD) as own:
            return audit_into(paths, out_dir, cfg, progress=progress, measures=measures,
                              require_documents=require_documents, session=own, html=html, draw=draw)
    t0 = time.perf_counter()
    tokenizer = get_tokenizer(cfg.tokenizer)
    extractor = get_extractor(cfg.entity_extractor)
    measures = measures if measures is not None else build_measures(cfg)
    quarantine = Quarantine(out_dir / "quarantine.jsonl" if out_dir else None)
    corpus = PassInput(paths, cfg.reader, tokenizer, extractor, quarantine, count_tokens=True)
    stats = corpus.stats

    with byte_progress("audit", corpus_size_bytes(paths), enabled=progress) as advance:
        states = session.run_pass(corpus, measures, lambda: advance(stats.bytes_read, stats.documents_read))
    quarantine.close()
    release_free_memory()  # the pass's garbage, before the finalize's peaks
    if stats.documents_read != stats.documents_ok + stats.documents_quarantined:
        raise ReconciliationError(f"read {stats.documents_read} != audited {stats.documents_ok} + "
                                  f"quarantined {stats.documents_quarantined}")
    if require_documents and stats.documents_ok == 0:
        raise EmptyCorpusError(no_documents_message(paths, stats, quarantine, cfg.reader.text_field))
    ctx = registry.FollowupContext(paths, cfg, tokenizer, extractor, {}, 0, progress, session.executor, session.units)
    drawing = None
    if session.executor is not None and (draw if draw is not None else (html and out_dir is not None)):
        drawing = SectionDrawing(session.executor)
    sections = finalize_all(measures, states, session, ctx, on_final=drawing.submit if drawing else None)
    del states
    release_free_memory()
    tokens = total_tokens(sections)
    report = AuditReport(cfg, corpus_section(stats, quarantine, tokens, cfg), sections)
    report.drawn = drawing.drawn() if drawing else None
    from curadebt.measures.debt import compute_debt

    report.debt = compute_debt(report.to_json())
    report.seconds = time.perf_counter() - t0
    if out_dir is not None:
        report.write(out_dir, html=html)
    return report


class SectionDrawing:
    """The page's measure sections drawn by an engine's workers as each result becomes final (in
    the gaps the finalize steps leave on the workers, rather than one after another once all are
    final)."""

    def __init__(self, executor):
        from concurrent.futures import ThreadPoolExecutor

        self.executor = executor
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="curadebt-draw")
        self._futures: dict = {}

    def submit(self, name: str, result) -> None:
        if name not in registry.section_names():
            return
        section = to_jsonable(result)
        self._futures[name] = self._pool.submit(
            lambda: (section, self.executor.get(self.executor.map(registry.render_section, [(name, section)]))[0]))

    def drawn(self) -> dict[str, tuple]:
        """{name: (the section drawn, its HTML)}."""
        try:
            return {name: f.result() for name, f in self._futures.items()}
        finally:
            self._pool.shutdown()


def finalize_all(measures: list[Measure], states: dict, session, ctx: registry.FollowupContext,
                 on_final: Callable[[str, Any], None] | None = None) -> dict:
    """Every measure's result, then each measure's ``complete`` hook, and the follow-up measures
    (in registry order) once their inputs are final. On an engine these steps run side by side,
    each in a driver thread as soon as what it needs is final, their tasks sharing the workers (a
    follow-up reads its stretch of the corpus unit by unit on them: ``ctx.units``), so one step's
    tasks fill the cores another's leave idle; results do not depend on it (every task is a
    function of its inputs, and every step writes only its own result). ``on_final(name, result)``
    is told of each final result."""
    executor, store = session.executor, session.store
    specs = {s.name: s for s in registry.specs()}
    built = {m.name for m in measures}
    followups = [s for s in registry.specs()
                 if s.followup is not None and s.name not in built and all(r in built for r in s.requires)]
    sections: dict = {}

    def finalize(m: Measure):
        result = m.finalize_on(states[m.name], store)
        spec = specs.get(m.name)
        if spec is not None and spec.complete is not None:
            spec.complete(ctx, result)
        if on_final is not None:
            on_final(m.name, result)
        return result

    def follow(spec, inputs: dict):
        result = spec.followup(dataclasses.replace(ctx, sections=inputs, tokens=total_tokens(inputs)))
        if on_final is not None:
            on_final(spec.name, result)
        return result

    if executor is None or len(measures) + len(followups) < 2:
        for m in measures:
            sections[m.name] = finalize(m)
        for spec in followups:
            sections[spec.name] = follow(spec, sections)
        return sections
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(measures) + len(followups), thread_name_prefix="curadebt-finalize") as pool:
        futures = {m.name: pool.submit(finalize, m) for m in measures}

        def after_inputs(spec):
            inputs = {k: futures[k].result() for k in spec.requires + spec.uses if k in futures}
            return follow(spec, inputs)

        for spec in followups:
            futures[spec.name] = pool.submit(after_inputs, spec)
        return {name: f.result() for name, f in futures.items()}


def total_tokens(sections: dict) -> int:
    if "frequency" in sections:
        return sections["frequency"].tokens
    if "mixture" in sections:
        return sum(s.tokens for s in sections["mixture"].sources)
    return 0
