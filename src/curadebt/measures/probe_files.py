"""Probe files: the competing facts whose data-side odds the ``probes`` measure counts.

A probe is a subject, two or more competing answers and optional patterns::

    Probe(id="france-capital", subject="France", answers=("Paris", "Barcelona"),
          patterns=("The capital of {subject} is {answer}",))

:func:`load_probes` reads, detecting the format from the content:

- **JSONL**, one probe per line: ``{"id", "subject", "answers": [...], "patterns": [...]}``
  (``patterns`` optional; each must contain ``{subject}`` and ``{answer}``). Lines may also hold
  CounterFact records (below).
- **A JSON list** of such probe objects, or of **CounterFact / EasyEdit** records (``case_id``,
  ``prompt``, ``subject``, ``ground_truth``, ``target_new``, ...): one probe per record with
  ``id = str(case_id)``, ``answers = [ground_truth, target_new]`` and one pattern, the prompt with the
  subject turned into ``{subject}`` and `` {answer}`` appended ("The mother tongue of Danielle
  Darrieux is" -> "The mother tongue of {subject} is {answer}"). The original ROME layout
  (``requested_rewrite`` with a ``{}`` prompt, ``target_true``/``target_new`` as ``{"str": ...}``)
  and zsRE/MEND records (``subject``, ``src``, ``answers``, ``alt``; id = record number; an empty
  ``alt`` is left out) are read too.

Answers keep their order, duplicates removed. A bad record raises :class:`ProbeFileError` naming the
file and the line (JSONL) or record number (JSON list, 1-based) and what is wrong.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from curadebt.core.errors import EXIT_INPUT, CuradebtError

SUBJECT_SLOT = "{subject}"
ANSWER_SLOT = "{answer}"


@dataclass(frozen=True)
class Probe:
    id: str
    subject: str
    answers: tuple[str, ...]
    patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # accept lists; keep the dataclass hashable and immutable
        object.__setattr__(self, "answers", tuple(self.answers))
        object.__setattr__(self, "patterns", tuple(self.patterns))

    def instantiate(self, pattern: str, answer: str) -> str:
        """The pattern's text for one answer (placeholders replaced literally, no ``str.format``)."""
        return pattern.replace(SUBJECT_SLOT, self.subject).replace(ANSWER_SLOT, answer)


class ProbeFileError(CuradebtError, ValueError):
    """A probe file or record that cannot be used; the message names the file and line/record."""

    exit_code = EXIT_INPUT


def _text(value: Any, what: str) -> str:
    if isinstance(value, dict) and isinstance(value.get("str"), str):  # ROME {"str": ..., "id": ...}
        value = value["str"]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value.strip()


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _check_patterns(patterns: Any) -> tuple[str, ...]:
    if patterns is None:
        return ()
    if isinstance(patterns, str) or not isinstance(patterns, list):
        raise ValueError(f"'patterns' must be a list of strings, got {type(patterns).__name__}")
    out = []
    for p in patterns:
        if not isinstance(p, str) or SUBJECT_SLOT not in p or ANSWER_SLOT not in p:
            raise ValueError(f"pattern {p!r} must be a string containing {SUBJECT_SLOT} and {ANSWER_SLOT}")
        out.append(p)
    return _dedupe(out)


def _generic(rec: dict) -> Probe:
    for key in ("id", "subject", "answers"):
        if key not in rec:
            raise ValueError(f"missing field {key!r} (a probe needs id, subject, answers; patterns optional)")
    pid = rec["id"]
    if isinstance(pid, bool) or not isinstance(pid, (str, int)) or str(pid) == "":
        raise ValueError(f"'id' must be a non-empty string or integer, got {pid!r}")
    answers = rec["answers"]
    if isinstance(answers, str) or not isinstance(answers, list) or not answers:
        raise ValueError(f"'answers' must be a non-empty list of strings, got {answers!r}")
    return Probe(str(pid), _text(rec["subject"], "'subject'"),
                 _dedupe([_text(a, "every answer") for a in answers]), _check_patterns(rec.get("patterns")))


def _prompt_pattern(prompt: str, subject: str) -> str:
    prompt = prompt.strip()
    if "{}" in prompt:  # ROME template
        prompt = prompt.replace("{}", SUBJECT_SLOT)
    elif subject in prompt:
        prompt = prompt.replace(subject, SUBJECT_SLOT)
    else:
        raise ValueError(f"prompt {prompt!r} does not contain the subject {subject!r}")
    return f"{prompt} {ANSWER_SLOT}"


def _counterfact(rec: dict) -> Probe:
    if "requested_rewrite" in rec:  # original ROME layout
        rw = rec["requested_rewrite"]
        if not isinstance(rw, dict):
            raise ValueError("'requested_rewrite' must be an object")
        fields = {"prompt": rw.get("prompt"), "subject": rw.get("subject"),
                  "ground_truth": rw.get("target_true"), "target_new": rw.get("target_new")}
    else:
        fields = {k: rec.get(k) for k in ("prompt", "subject", "ground_truth", "target_new")}
    if "case_id" not in rec:
        raise ValueError("CounterFact record without 'case_id'")
    missing = [k for k, v in fields.items() if v is None]
    if missing:
        raise ValueError(f"CounterFact record missing {', '.join(map(repr, missing))}")
    subject = _text(fields["subject"], "'subject'")
    prompt = _text(fields["prompt"], "'prompt'")
    answers = _dedupe([_text(fields["ground_truth"], "'ground_truth'"), _text(fields["target_new"], "'target_new'")])
    return Probe(str(rec["case_id"]), subject, answers, (_prompt_pattern(prompt, subject),))


def _zsre(rec: dict, number: int) -> Probe:
    answers = rec.get("answers")
    if isinstance(answers, str) or not isinstance(answers, list):
        raise ValueError(f"zsRE 'answers' must be a list, got {answers!r}")
    alt = rec.get("alt")
    alts = [_text(alt, "'alt'")] if isinstance(alt, str) and alt.strip() else []  # a few records have alt ""
    return Probe(str(number), _text(rec.get("subject"), "'subject'"),
                 _dedupe([_text(a, "every answer") for a in answers] + alts))


def probe_from_record(rec: Any, number: int = 0) -> Probe:
    """One probe from one parsed record (any supported layout). Raises ``ValueError`` when bad."""
    if not isinstance(rec, dict):
        raise ValueError(f"expected a JSON object, got {type(rec).__name__}")
    if "answers" in rec and "alt" in rec and "src" in rec and "id" not in rec:
        return _zsre(rec, number)
    if "answers" in rec or "id" in rec:
        return _generic(rec)
    if "case_id" in rec or "requested_rewrite" in rec:
        return _counterfact(rec)
    raise ValueError("not a probe: expected fields id, subject, answers[, patterns] or a CounterFact record "
                     "(case_id, prompt, subject, ground_truth, target_new)")


#: what a probes setting accepts (the help of every --probes option)
PROBES_HELP = ("Competing facts to weigh: probes JSONL (id, subject, answers, patterns) or CounterFact/EasyEdit "
               "JSON; the facts op balances them.")


def load_probes(path: str | os.PathLike) -> list[Probe]:
    """Read a probe file (JSONL, JSON list, CounterFact/EasyEdit JSON); see the module docstring."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProbeFileError(f"{path}: no such probe file") from None
    except UnicodeDecodeError as e:
        raise ProbeFileError(f"{path}: not UTF-8 text ({e})") from None
    stripped = text.lstrip()
    records: list[tuple[str, int, Any]] = []  # (where, number, record)
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ProbeFileError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
        records = [(f"{path}: record {i}", i, rec) for i, rec in enumerate(data, start=1)]
    else:
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise ProbeFileError(f"{path}:{lineno}: invalid JSON ({e.msg} at column {e.colno})") from None
            records.append((f"{path}:{lineno}", len(records) + 1, rec))
    probes: list[Probe] = []
    seen: dict[str, str] = {}
    for where, number, rec in records:
        try:
            probe = probe_from_record(rec, number)
        except ValueError as e:
            ident = f" (case_id {rec['case_id']})" if isinstance(rec, dict) and "case_id" in rec else ""
            raise ProbeFileError(f"{where}{ident}: {e}") from None
        if probe.id in seen:
            raise ProbeFileError(f"{where}: duplicate probe id {probe.id!r} (first at {seen[probe.id]})")
        seen[probe.id] = where
        probes.append(probe)
    if not probes:
        raise ProbeFileError(f"{path}: no probes in the file")
    return probes
