"""The Paris experiment's link to the data: the data-side odds of each fact in a corpus (the audit's
probes measure), next to the model's prior odds."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from curadebt.lab.facts import Fact
from curadebt.lab.overwrite import OverwriteResult


def facts_to_probes(facts: Sequence[Fact]):
    """One audit probe per fact: subject, answers (old, new), and every prompt of the fact as a pattern."""
    from curadebt.measures.probe_files import ANSWER_SLOT, SUBJECT_SLOT, Probe

    out = []
    for f in facts:
        prompts = list(dict.fromkeys(f.train_prompts + f.rewrite_prompts + f.paraphrase_prompts))
        patterns = tuple(p.replace(f.subject, SUBJECT_SLOT) + " " + ANSWER_SLOT for p in prompts if f.subject in p)
        out.append(Probe(id=f.id, subject=f.subject, answers=(f.old, f.new), patterns=patterns))
    return out


def corpus_probes_report(paths: Sequence[str | Path] | str | Path, facts: Sequence[Fact], text_field: str = "text",
                         progress: Callable[[str], None] | None = None) -> dict:
    """Count the data-side odds of every fact in a corpus (the audit's ``probes`` measure, one pass).

    Returns a report-shaped dict ``{"probes": ...}`` that :func:`probe_odds` reads, like an audit
    report.json made with ``--probes``.
    """
    from curadebt.core.measure import to_jsonable
    from curadebt.measures.probes import ProbesMeasure
    from curadebt.corpus.readers import ReaderConfig, iter_batches

    paths = [str(paths)] if isinstance(paths, (str, Path)) else [str(p) for p in paths]
    measure = ProbesMeasure(facts_to_probes(facts))
    state = measure.empty()
    n = 0
    for batch in iter_batches(paths, ReaderConfig(text_field=text_field)):
        state = measure.accumulate(state, batch)
        n += len(batch)
        if progress and n % 50_000 < len(batch):
            progress(f"probes: {n:,} documents")
    return {"probes": to_jsonable(measure.finalize(state)), "corpus": {"paths": paths, "documents": n}}


def probe_odds(report: dict, result: OverwriteResult) -> list[dict]:
    """Data-side odds of old vs new from an audit report's ``probes`` section, next to the model prior.

    A probe matches a fact when its answers include both the old and the new answer (case-folded)
    and its subject contains the fact's subject or vice versa. Data odds old:new are
    ``(count_old + 1) / (count_new + 1)`` in sentences (documents when no sentence co-occurs), the
    smoothing of the audit's dominance_ratio. The model's prior odds are P(old) / P(new) on the
    rewrite prompts of the base model.
    """
    section = report.get("probes") or {}
    probes = section.get("probes", []) if isinstance(section, dict) else section
    base = {u["fact"]: u for u in result.units if u["ratio"] == 0}
    out = []
    for f in result.facts:
        fs = f["subject"].lower()
        for pr in probes:
            answers = {a.get("answer", "").lower(): a for a in pr.get("answers", [])}
            a_old, a_new = answers.get(f["old"].lower()), answers.get(f["new"].lower())
            ps = str(pr.get("subject", "")).lower()
            if a_old is None or a_new is None or not (fs in ps or ps in fs):
                continue
            unit = "sentences" if (a_old.get("sentences", 0) + a_new.get("sentences", 0)) > 0 else "documents"
            c_old, c_new = int(a_old.get(unit, 0)), int(a_new.get(unit, 0))
            b = base.get(f["id"], {})
            p_old, p_new = b.get("p_old", float("nan")), b.get("p_new", float("nan"))
            out.append({
                "fact": f["id"], "probe": pr.get("id"), "probe_subject": pr.get("subject"),
                "old": f["old"], "new": f["new"], "unit": unit, "data_old": c_old, "data_new": c_new,
                "share_old": a_old.get("share"), "share_new": a_new.get("share"),
                "data_odds_old_new": (c_old + 1) / (c_new + 1),
                "dominance_ratio": pr.get("dominance_ratio"),
                "model_p_old": p_old, "model_p_new": p_new,
                "model_odds_old_new": p_old / p_new if p_new and p_new > 0 else float("inf"),
                "r50": result.r50.get("efficacy"),
            })
    return out
