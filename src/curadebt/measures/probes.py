"""Probes: the data-side odds of competing facts ("the capital of France is Paris" vs "... Barcelona").

For each probe (subject + competing answers, see :mod:`curadebt.measures.probe_files`) and each answer:

- ``documents``        documents in which the subject and the answer both occur;
- ``sentences``        sentences in which both occur;
- ``pattern_matches``  exact matches of the probe's patterns with this answer filled in
                       ("The capital of France is Paris"), summed over patterns;
- ``share``            the answer's share of the probe's co-occurrences, counted in sentences, or in
                       documents when no answer co-occurs with the subject in any sentence (``basis``
                       says which; 0 for every answer when there is no co-occurrence at all).

Per probe: ``top_answer`` and ``runner_up`` (answers ranked by the basis count descending, then answer
text ascending; both None without any co-occurrence, ``runner_up`` None with a single answer) and

    dominance_ratio = (count(top_answer) + 1) / (count(runner_up) + 1)

in the basis unit, +1 smoothing so that unseen answers give a finite ratio and no evidence gives 1.
It is the data-side prediction of which answer a model trained on this corpus favours, and by how
much: a correction has to out-number the top answer by about this ratio.

The result lists every probe, the most dominated first: by ``dominance_ratio`` descending, then the
evidence (basis count summed over answers) descending, then the order of the probe file; probes
without any evidence come last. ``dominated`` counts probes with ``dominance_ratio >=
dominance_threshold`` (default 10).

Matching rules
    Subjects, answers and patterns match case-sensitively and whole-word: a match may not be
    preceded or followed by a word character (``\\w``) where its own first/last character is a word
    character ("Paris" matches in "Paris, France" and "Paris-based", not in "Parisian"). Answer
    occurrences that overlap a mention of the subject are ignored ("Paris" inside the subject "Paris
    Hilton"). Pattern whitespace matches any run of whitespace.
Sentences
    A simple splitter: a sentence ends at ``.``, ``!`` or ``?`` (optionally followed by a closing
    quote or bracket) followed by whitespace, or at a blank line. Abbreviations ("Mr.") split too.
    A subject and an answer co-occur in a sentence when both matches start in it.
Speed
    Subjects are found with one Aho-Corasick automaton (pyahocorasick) over each document; answers
    and patterns are searched only in documents that mention a subject, sentences are split only
    there. The state is a sparse map ``probe id -> [[documents, sentences, pattern_matches] per
    answer]`` that merges by addition (exact, order independent).
"""
from __future__ import annotations

import os
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Sequence

from curadebt.core.measure import Measure
from curadebt.measures.probe_files import Probe, load_probes
from curadebt.corpus.batch import Batch
from curadebt.measures import scorekit as sk
from curadebt.measures.registry import MeasureSpec, register
from curadebt.report import htmlkit as hk, plots

SENTENCE_BREAK_RE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+|\n[^\S\n]*\n\s*")

#: default: a probe is "dominated" when the top answer out-numbers the runner-up 10:1 (smoothed).
DEFAULT_DOMINANCE_THRESHOLD = 10.0


def sentence_starts(text: str) -> list[int]:
    """Start offsets of the sentences of ``text`` (the splitter of the module docstring)."""
    return [0] + [m.end() for m in SENTENCE_BREAK_RE.finditer(text) if m.end() < len(text)]


def split_sentences(text: str) -> list[str]:
    starts = sentence_starts(text)
    ends = starts[1:] + [len(text)]
    return [text[s:e].strip() for s, e in zip(starts, ends) if text[s:e].strip()]


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def whole_word_regex(phrase: str) -> re.Pattern:
    """Case-sensitive whole-word regex for a literal phrase (whitespace runs match any whitespace)."""
    body = r"\s+".join(re.escape(part) for part in phrase.split())
    if not body:
        raise ValueError("empty phrase")
    head = r"(?<!\w)" if _is_word_char(phrase.strip()[0]) else ""
    tail = r"(?!\w)" if _is_word_char(phrase.strip()[-1]) else ""
    return re.compile(head + body + tail)


@dataclass
class AnswerStat:
    answer: str
    documents: int
    sentences: int
    pattern_matches: int
    share: float


@dataclass
class ProbeStat:
    id: str
    subject: str
    answers: list[AnswerStat]
    top_answer: str | None
    runner_up: str | None
    dominance_ratio: float
    basis: str  # "sentences", "documents" or "none"


@dataclass
class ProbesResult:
    count: int                          # number of probes
    probes: list[ProbeStat]             # dominance_ratio desc, evidence desc, then probe-file order
    with_evidence: int = 0              # probes with any subject-answer co-occurrence
    dominated: int = 0                  # probes with dominance_ratio >= dominance_threshold
    dominance_threshold: float = DEFAULT_DOMINANCE_THRESHOLD
    max_dominance_ratio: float = 1.0
    documents_scanned: int = 0
    documents_with_subject: int = 0     # documents mentioning at least one probe subject


@dataclass
class ProbesState:
    counts: dict[str, list[list[int]]] = field(default_factory=dict)  # probe id -> per answer [docs, sents, patterns]
    documents_scanned: int = 0
    documents_with_subject: int = 0


class ProbesMeasure(Measure[ProbesState, ProbesResult]):
    name = "probes"

    def __init__(self, probes: Sequence[Probe] | str | os.PathLike,
                 dominance_threshold: float = DEFAULT_DOMINANCE_THRESHOLD):
        if isinstance(probes, (str, os.PathLike)):
            probes = load_probes(probes)
        self.probes: list[Probe] = list(probes)
        ids = [p.id for p in self.probes]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
            raise ValueError(f"duplicate probe ids: {dup}")
        self.dominance_threshold = dominance_threshold
        self._by_subject: dict[str, list[int]] = {}
        for i, p in enumerate(self.probes):
            if not p.subject or not p.answers:
                raise ValueError(f"probe {p.id!r} needs a subject and at least one answer")
            self._by_subject.setdefault(p.subject, []).append(i)
        self._caches()

    # caches are rebuilt after unpickling (the automaton and compiled regexes stay in this process)
    def _caches(self) -> None:
        self._automaton = None
        self._answer_re: dict[str, re.Pattern] = {}
        self._pattern_re: dict[tuple[int, int], list[re.Pattern]] = {}

    def __getstate__(self):
        d = self.__dict__.copy()
        for k in ("_automaton", "_answer_re", "_pattern_re"):
            d.pop(k, None)
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        self._caches()

    def _get_automaton(self):
        if self._automaton is None:
            import ahocorasick

            a = ahocorasick.Automaton()
            for subject in self._by_subject:
                a.add_word(subject, subject)
            a.make_automaton()
            self._automaton = a
        return self._automaton

    def _answer_regex(self, answer: str) -> re.Pattern:
        r = self._answer_re.get(answer)
        if r is None:
            r = self._answer_re[answer] = whole_word_regex(answer)
        return r

    def _pattern_regexes(self, pi: int, ai: int) -> list[re.Pattern]:
        key = (pi, ai)
        rs = self._pattern_re.get(key)
        if rs is None:
            p = self.probes[pi]
            rs = self._pattern_re[key] = [whole_word_regex(p.instantiate(pat, p.answers[ai])) for pat in p.patterns]
        return rs

    # -- map / merge -----------------------------------------------------------------------
    def empty(self) -> ProbesState:
        return ProbesState()

    def map(self, batch: Batch) -> ProbesState:
        return self.accumulate(self.empty(), batch)

    def accumulate(self, state: ProbesState, batch: Batch) -> ProbesState:
        if not self._by_subject:
            state.documents_scanned += len(batch.docs)
            return state
        automaton = self._get_automaton()
        counts = state.counts
        for doc in batch.docs:
            state.documents_scanned += 1
            text = doc.text
            n = len(text)
            hits: dict[str, list[tuple[int, int]]] = {}
            for end, subject in automaton.iter(text):
                start = end - len(subject) + 1
                if start > 0 and _is_word_char(subject[0]) and _is_word_char(text[start - 1]):
                    continue
                if end + 1 < n and _is_word_char(subject[-1]) and _is_word_char(text[end + 1]):
                    continue
                hits.setdefault(subject, []).append((start, end + 1))
            if not hits:
                continue
            state.documents_with_subject += 1
            starts = sentence_starts(text)
            answer_spans: dict[str, list[tuple[int, int]]] = {}
            for subject, spans in hits.items():
                subject_sents = {bisect_right(starts, s) - 1 for s, _ in spans}
                for pi in self._by_subject[subject]:
                    probe = self.probes[pi]
                    row = None
                    for ai, answer in enumerate(probe.answers):
                        occ = answer_spans.get(answer)
                        if occ is None:
                            occ = answer_spans[answer] = [m.span() for m in self._answer_regex(answer).finditer(text)]
                        if not occ:
                            continue
                        if answer in subject or subject in answer:  # only then can they overlap
                            occ = [(a, b) for a, b in occ if not any(a < e and s < b for s, e in spans)]
                            if not occ:
                                continue
                        sents = len(subject_sents.intersection(bisect_right(starts, a) - 1 for a, _ in occ))
                        pats = sum(len(r.findall(text)) for r in self._pattern_regexes(pi, ai)) if probe.patterns else 0
                        if row is None:
                            row = counts.get(probe.id)
                            if row is None:
                                row = counts[probe.id] = [[0, 0, 0] for _ in probe.answers]
                        cell = row[ai]
                        cell[0] += 1
                        cell[1] += sents
                        cell[2] += pats
        return state

    def merge(self, a: ProbesState, b: ProbesState) -> ProbesState:
        counts = {k: [c[:] for c in v] for k, v in a.counts.items()}
        for k, v in b.counts.items():
            row = counts.get(k)
            if row is None:
                counts[k] = [c[:] for c in v]
            else:
                for cell, add in zip(row, v):
                    for i in range(3):
                        cell[i] += add[i]
        return ProbesState(counts, a.documents_scanned + b.documents_scanned,
                           a.documents_with_subject + b.documents_with_subject)

    # -- finalize --------------------------------------------------------------------------
    def finalize(self, state: ProbesState) -> ProbesResult:
        out: list[ProbeStat] = []
        order: list[tuple[float, int, int]] = []
        with_evidence = dominated = 0
        max_ratio = 1.0
        for p in self.probes:
            row = state.counts.get(p.id) or [[0, 0, 0] for _ in p.answers]
            docs = [c[0] for c in row]
            sents = [c[1] for c in row]
            if sum(sents) > 0:
                basis, values = "sentences", sents
            elif sum(docs) > 0:
                basis, values = "documents", docs
            else:
                basis, values = "none", [0] * len(row)
            total = sum(values)
            answers = [AnswerStat(a, c[0], c[1], c[2], (v / total) if total else 0.0)
                       for a, c, v in zip(p.answers, row, values)]
            ranked = sorted(range(len(p.answers)), key=lambda i: (-values[i], p.answers[i]))
            if total:
                with_evidence += 1
                top = p.answers[ranked[0]]
                runner = p.answers[ranked[1]] if len(ranked) > 1 else None
                runner_count = values[ranked[1]] if len(ranked) > 1 else 0
                ratio = (values[ranked[0]] + 1) / (runner_count + 1)
            else:
                top = runner = None
                ratio = 1.0
            if ratio >= self.dominance_threshold:
                dominated += 1
            max_ratio = max(max_ratio, ratio)
            out.append(ProbeStat(p.id, p.subject, answers, top, runner, ratio, basis))
            order.append((-ratio, -total, len(order)))
        out = [out[i] for *_, i in sorted(order)]
        return ProbesResult(count=len(self.probes), probes=out, with_evidence=with_evidence, dominated=dominated,
                            dominance_threshold=self.dominance_threshold, max_dominance_ratio=max_ratio,
                            documents_scanned=state.documents_scanned,
                            documents_with_subject=state.documents_with_subject)


# ---------------------------------------------------------------------------------------------
# its debt dimension (docs/debt.md) and its report section

def _probe_label(probe: dict) -> str:
    pid = str(probe.get("id", ""))
    subject = str(probe.get("subject", ""))
    words = pid.replace("-", " ").replace("_", " ").strip()
    if subject and subject in words:
        return words
    return f"{pid} ({subject})" if subject and pid else (subject or pid or "?")


def score_probes(sec: dict, report: dict, t: sk.DebtThresholds) -> tuple[dict, list[dict]]:
    probes = [p for p in (sec.get("probes") or []) if isinstance(p, dict)]
    if not probes:
        return sk.not_measured("no probes" + (" in the probe file" if sec else ""), t.dominance_ratio), []
    rated = []
    for p in probes:
        answers = {str(a.get("answer")): a for a in p.get("answers") or [] if isinstance(a, dict)}
        basis = p.get("basis")
        if basis not in ("sentences", "documents"):
            basis = "sentences" if any((a.get("sentences") or 0) > 0 for a in answers.values()) else "documents"
        top, runner = p.get("top_answer"), p.get("runner_up")
        top_n = int((answers.get(str(top)) or {}).get(basis) or 0) if top is not None else 0
        run_n = int((answers.get(str(runner)) or {}).get(basis) or 0) if runner is not None else 0
        ratio = sk.number(p.get("dominance_ratio"))
        if ratio is None:  # absent or infinite in the source: recompute the smoothed ratio
            ratio = (top_n + 1) / (run_n + 1) if top is not None else 1.0
        rated.append((ratio, p, top, runner, top_n, run_n, basis))
    rated.sort(key=lambda r: (-r[0], str(r[1].get("id"))))
    worst = rated[0]
    crit = sk.Criterion("max_dominance_ratio", worst[0], t.dominance_ratio, "ratio")
    n_debt = sum(1 for r in rated if r[0] >= t.dominance_ratio)
    summary = (f"{n_debt} of {len(rated)} probes at or over {sk.ratio_text(t.dominance_ratio)}:1; worst: "
               f"{_probe_label(worst[1])} {sk.ratio_text(worst[0])}:1")
    dim = sk.dimension([crit], summary)
    findings = []
    for ratio, p, top, runner, top_n, run_n, basis in rated[:sk.MAX_FINDINGS_PER_DIMENSION]:
        score = sk.ratio_score(ratio, t.dominance_ratio)
        if score < sk.LOW:
            break
        label = _probe_label(p)
        if runner is not None:
            tail = ("a correction needs more than that" if ratio >= t.dominance_ratio
                    else f"under the {sk.ratio_text(t.dominance_ratio)}:1 debt threshold")
            msg = f"{label}: '{top}' outnumbers '{runner}' {top_n}:{run_n} in {basis} (dominance {sk.ratio_text(ratio)}:1; {tail})"
        else:
            msg = f"{label}: '{top}' has no rival in the data ({top_n} {basis}, dominance {sk.ratio_text(ratio)}:1)"
        findings.append(sk.finding("probes", score, msg, str(p.get("subject", p.get("id"))), probe=p.get("id"),
                                 value=ratio, threshold=t.dominance_ratio))
    return dim, findings


def _answers(p: dict) -> list[dict]:
    ans = [a for a in hk.as_list(p.get("answers")) if isinstance(a, dict)]
    return sorted(ans, key=lambda a: (-(hk.finite(a.get("share")) or 0.0), str(a.get("answer"))))


def render_probes(sec: dict, ctx: hk.RenderContext) -> str:
    probes = [p for p in hk.as_list(sec.get("probes")) if isinstance(p, dict)]
    tiles = [("probes", hk.num(sec.get("count") if sec.get("count") is not None else len(probes)))]
    for key, label in (("with_evidence", "with evidence"), ("dominated", "dominated"),
                       ("dominance_threshold", "dominance threshold"), ("max_dominance_ratio", "max dominance"),
                       ("documents_with_subject", "documents with a subject")):
        if sec.get(key) is not None:
            tiles.append((label, hk.ratio(sec[key]) if "dominance" in key else hk.num(sec[key])))
    out = [hk.tiles(tiles)]
    if not probes:
        return "".join(out) + '<p class="note">no probes</p>'
    out.append('<p class="note">For each probed fact, the share of corpus evidence for each competing answer. '
               "The dominance ratio (top answer \u00f7 runner-up) estimates how many counter-examples a later "
               "correction has to outweigh.</p>")
    top = probes[:hk.MAX_PROBE_BARS]
    out.append(ctx.plot(
        lambda: plots.stacked_share_svg([hk.first(p, "subject", "id") for p in top],
                                        [[(a.get("answer"), a.get("share")) for a in _answers(p)] for p in top],
                                        title="Evidence share per answer"),
        "Stacked share of evidence per answer (largest first), one bar per probe."
        + (f" Showing {len(top)} of {len(probes)} probes." if len(probes) > len(top) else "")))
    rows = []
    for p in probes[:hk.MAX_ROWS * 4]:
        ans = "; ".join(
            f"<code>{hk.esc(a.get('answer'))}</code> {hk.esc(hk.pct(a.get('share')))} "
            f"({hk.esc(hk.num(a.get('documents')))} docs, {hk.esc(hk.num(a.get('sentences')))} sent., "
            f"{hk.esc(hk.num(a.get('pattern_matches')))} pattern)" for a in _answers(p))
        dom = p.get("dominance_ratio")
        dom_cell = hk.cell(dom, hk.ratio) if dom is not None else hk.Cell("no runner-up" if p.get("runner_up") is None else hk.DASH)
        rows.append([hk.code(p.get("id")), p.get("subject"), hk.code(p.get("top_answer")), hk.code(p.get("runner_up")),
                     dom_cell, p.get("basis") if p.get("basis") is not None else hk.DASH, hk.Trusted(ans)])
    out.append(hk.table(["id", "subject", "top answer", "runner-up", "dominance", "basis", "answers"], rows,
                      total=len(probes)))
    return "".join(out)


def _build(cfg) -> ProbesMeasure | None:
    if not cfg.probes:
        return None
    return ProbesMeasure(load_probes(cfg.probes))


register(MeasureSpec(name="probes", title="Competing facts (probes)", position=60, debt_position=50, build=_build,
                     score=score_probes, render=render_probes))
