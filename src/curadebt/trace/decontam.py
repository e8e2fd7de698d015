"""Decontamination: which training documents hold text of an evaluation set.

An evaluation item (its question, answer, context... fields joined) is contaminated when a run of at
least ``n`` of its tokens (13 by default, as GPT-3's and dolma's decontamination) occurs verbatim in
a training document. The tokens are the index's: with the default ``words-lower`` index, lower-cased
regex words, so case, punctuation and spacing do not hide an overlap. An item shorter than ``n``
tokens is matched whole when it has at least ``min_tokens``; shorter ones are counted as not checked.

The search runs on the corpus's suffix-array index (:mod:`curadebt.trace.index`, built on the fly or
given): every n-gram of every item is counted, all of them in one vectorised binary search per
window length (:meth:`TokenIndex.count_many`), then every document that holds an n-gram found is
listed (:meth:`TokenIndex.documents`). Nothing is sampled: every item and every document is checked.

Output folder (written as one change): ``report.json`` (per evaluation set: items, checked,
contaminated, the spans and documents of each contaminated item), ``report.html``,
``contaminated.jsonl`` (one line per contaminated training document: its id and the items it holds;
what the curate op ``decontaminate`` reads), ``manifest.json``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from curadebt.core.config import setting
from curadebt.core.errors import EXIT_USAGE, CuradebtError

CONTAMINATED_FILE = "contaminated.jsonl"
DEFAULT_FIELDS = ("question", "prompt", "context", "answer", "text")


class DecontamError(CuradebtError, ValueError):
    exit_code = EXIT_USAGE


@dataclass
class DecontamConfig:
    """What counts as an overlap, and how evaluation records become items."""

    n: int = setting(13, help="Overlap length in tokens (13: as GPT-3 and dolma).")
    min_tokens: int = setting(8, help="An item shorter than n tokens is matched whole when it has at least this many; "
                                      "shorter items are reported as not checked.")
    eval_fields: tuple[str, ...] = setting(DEFAULT_FIELDS, help="Fields of an evaluation record joined into its text "
                                                                "(those it has, in this order), comma-separated.")
    eval_id_field: str = setting("id", help="Field holding an evaluation item's id (else its position).")
    index_tokenizer: str = setting("words-lower", help="Tokenizer of the index built on the fly: 'words-lower' "
                                                       "(case-insensitive words), 'words', a tokenizer.json or a "
                                                       "model folder.")
    max_documents: int = setting(10_000, help="Most documents listed per span (the count is always exact).")

    def validate(self) -> "DecontamConfig":
        if self.n < 2 or self.min_tokens < 1:
            raise DecontamError("n must be >= 2 and min_tokens >= 1")
        if not self.eval_fields:
            raise DecontamError("eval_fields: give at least one field")
        return self


@dataclass
class EvalItem:
    id: str
    text: str


@dataclass
class SpanHit:
    text: str
    tokens: int
    count: int                   # occurrences in the corpus of its most frequent n-gram
    n_documents: int             # documents holding any of its n-grams
    documents: list[str]         # their ids (sorted), at most max_documents


@dataclass
class ItemHit:
    id: str
    text: str
    tokens: int
    spans: list[SpanHit] = field(default_factory=list)


@dataclass
class EvalReport:
    name: str
    path: str
    items: int
    checked: int
    too_short: int
    contaminated: int
    hits: list[ItemHit] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.contaminated / self.checked if self.checked else 0.0

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["contaminated_share"] = self.share
        d["documents"] = len({doc for h in self.hits for s in h.spans for doc in s.documents})
        return d


def read_eval_items(path: str | Path, cfg: DecontamConfig) -> list[EvalItem]:
    """The items of an evaluation set: per record, the configured fields it has, joined with a space
    (a field holding a list or a mapping contributes its strings)."""
    items: list[EvalItem] = []
    for k, rec in enumerate(eval_records(Path(path))):
        parts = [t for f in cfg.eval_fields for t in _strings(rec.get(f))]
        if parts:
            rid = rec.get(cfg.eval_id_field)
            items.append(EvalItem(id=str(rid) if rid is not None else f"#{k}", text=" ".join(parts)))
    if not items:
        raise DecontamError(f"{path}: no record has any of the fields {list(cfg.eval_fields)} (set --eval-fields)")
    return items


def _strings(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _strings(v)]
    return [str(value)]


def eval_records(path: Path) -> Iterable[dict]:
    """The records of an evaluation file: JSONL (.gz), a JSON array (or an object holding one), CSV,
    TSV, Parquet, or a saved ``datasets`` folder (every split)."""
    import csv
    import gzip

    if not path.exists():
        raise DecontamError(f"--eval {path}: no such file or folder")
    if path.is_dir():
        from datasets import DatasetDict, load_from_disk

        ds = load_from_disk(str(path))
        for split in (ds.values() if isinstance(ds, DatasetDict) else [ds]):
            yield from split
        return
    name = path.name.lower()
    opener = gzip.open if name.endswith(".gz") else open
    stem = name[:-3] if name.endswith(".gz") else name
    if stem.endswith((".jsonl", ".ndjson")):
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)
    elif stem.endswith(".json"):
        with opener(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
        rows = data if isinstance(data, list) else next((v for v in data.values() if isinstance(v, list)), [])
        yield from (r for r in rows if isinstance(r, dict))
    elif stem.endswith((".csv", ".tsv")):
        with opener(path, "rt", encoding="utf-8", newline="") as fh:
            yield from csv.DictReader(fh, delimiter="\t" if stem.endswith(".tsv") else ",")
    elif stem.endswith(".parquet"):
        import pyarrow.parquet as pq

        yield from pq.read_table(path).to_pylist()
    else:
        raise DecontamError(f"--eval {path}: unknown format (JSONL, JSON, CSV, TSV, Parquet or a datasets folder)")


def find_contamination(index, items: list[EvalItem], cfg: DecontamConfig, name: str, path: str,
                       progress: Callable[[int], None] | None = None) -> EvalReport:
    """Every item of one evaluation set checked against the index: all their n-grams counted in one
    vectorised search per window length (:meth:`TokenIndex.count_many`), then the documents of the
    n-grams found."""
    rep = EvalReport(name=name, path=path, items=len(items), checked=0, too_short=0, contaminated=0)
    encoded = [index.encode(item.text) for item in items]
    present = _present_windows(index, encoded, cfg)
    for k, (item, ids) in enumerate(zip(items, encoded)):
        if len(ids) < cfg.min_tokens:
            rep.too_short += 1
        else:
            rep.checked += 1
            hit = _item_hit(index, item, ids, present.get(k, []), cfg)
            if hit.spans:
                rep.contaminated += 1
                rep.hits.append(hit)
        if progress is not None:
            progress(k + 1)
    return rep


def _present_windows(index, encoded: list, cfg: DecontamConfig) -> dict[int, list[int]]:
    """Item number -> the start positions of its n-grams that occur in the corpus (an item shorter
    than n: the whole item, at 0)."""
    by_len: dict[int, list[tuple[int, int]]] = {}
    for k, ids in enumerate(encoded):
        if len(ids) >= cfg.min_tokens:
            n = min(cfg.n, len(ids))
            by_len.setdefault(n, []).extend((k, i) for i in range(len(ids) - n + 1))
    present: dict[int, list[int]] = {}
    for n, windows in sorted(by_len.items()):
        grid = np.stack([np.asarray(encoded[k][i:i + n], dtype=np.int64) for k, i in windows])
        counts = index.count_many(grid)
        for (k, i), c in zip(windows, counts.tolist()):
            if c > 0:
                present.setdefault(k, []).append(i)
    return present


def _item_hit(index, item: EvalItem, ids, starts: list[int], cfg: DecontamConfig) -> ItemHit:
    """The overlapping spans of one item: each run of consecutive n-grams of it that occur in the
    corpus, with every document holding any of those n-grams (a document sharing only part of a
    longer overlap is found too)."""
    hit = ItemHit(id=item.id, text=item.text, tokens=int(len(ids)))
    if not starts:
        return hit
    n = min(cfg.n, len(ids))  # a short item: matched whole
    _, offsets = index.tokenizer.encode_with_offsets(item.text)
    for run in _runs(starts):
        docs: dict[str, None] = {}
        count = 0
        for i in run:
            res = index.documents(ids[i:i + n], limit=cfg.max_documents, context_chars=0)
            count = max(count, int(res.count))
            docs.update((d.id, None) for d in res.documents)
        a, b = run[0], run[-1] + n
        hit.spans.append(SpanHit(text=item.text[offsets[a][0]:offsets[b - 1][1]], tokens=b - a, count=count,
                                 n_documents=len(docs), documents=sorted(docs)[:cfg.max_documents]))
    return hit


def _runs(starts: list[int]) -> list[list[int]]:
    """Consecutive start positions grouped: [1, 2, 3, 7, 8] -> [[1, 2, 3], [7, 8]]."""
    runs: list[list[int]] = []
    for i in starts:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def contaminated_documents(reports: list[EvalReport]) -> list[dict[str, Any]]:
    """One row per contaminated training document: its id and the (eval, item, span) it holds."""
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for rep in reports:
        for h in rep.hits:
            for s in h.spans:
                for d in s.documents:
                    by_doc.setdefault(d, []).append({"eval": rep.name, "item": h.id, "span": s.text})
    return [{"id": d, "hits": hits} for d, hits in sorted(by_doc.items())]


def write_contaminated(path: Path, rows: list[dict[str, Any]]) -> None:
    from curadebt.core.atomic import write_text_atomic

    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows))


@dataclass
class DecontamResult:
    out: Path
    reports: list[EvalReport]
    documents: list[dict[str, Any]]            # the contaminated training documents
    index: dict[str, Any]                      # the index used: path (or "built"), documents, tokens
    config: DecontamConfig

    def to_json(self) -> dict[str, Any]:
        return {"schema": "curadebt.decontaminate/1", "config": asdict(self.config), "index": self.index,
                "evals": [r.to_json() for r in self.reports], "contaminated_documents": len(self.documents)}


def run_decontaminate(corpus, evals: list[str | Path], out: str | Path, cfg: DecontamConfig | None = None,
                      reader: Any = None, index: str | Path | None = None, force: bool = False,
                      progress: bool = False) -> DecontamResult:
    """Check every evaluation set against the corpus (its index given, or built into ``OUT/index``)
    and write the report folder as one change (see the module docstring)."""
    from curadebt.core.atomic import write_json_atomic, write_text_atomic
    from curadebt.corpus.outdir import staged_output
    from curadebt.corpus.sources import expand_inputs
    from curadebt.progress import count_progress
    from curadebt.trace.decontam_html import render_decontam_html
    from curadebt.trace.index import TokenIndex

    cfg = (cfg or DecontamConfig()).validate()
    if not evals:
        raise DecontamError("give at least one evaluation set (--eval FILE)")
    sets = [(Path(e), read_eval_items(e, cfg)) for e in evals]  # bad evaluation files fail before any work
    inputs = expand_inputs(corpus) + [Path(e) for e in evals]
    with staged_output(out, kind="decontaminate", inputs=inputs, force=force) as stage:
        if index is not None:
            idx = TokenIndex.open(index)
            where = str(index)
        else:
            from curadebt.trace.build import build_index

            build_index(corpus, stage.dir / "index", tokenizer=cfg.index_tokenizer, reader_config=reader)
            idx = TokenIndex.open(stage.dir / "index")
            where = "index"
        reports = []
        for path, items in sets:
            with count_progress(f"decontaminate {path.name}", len(items), enabled=progress) as advance:
                reports.append(find_contamination(idx, items, cfg, _set_name(path, sets), str(path),
                                                  progress=lambda k: advance(1)))
        docs = contaminated_documents(reports)
        result = DecontamResult(out=Path(out), reports=reports, documents=docs, config=cfg,
                                index={"path": where, "documents": idx.n_docs, "tokens": idx.n_tokens,
                                       "tokenizer": idx.tokenizer.spec})
        write_contaminated(stage.dir / CONTAMINATED_FILE, docs)
        write_json_atomic(stage.dir / "report.json", result.to_json())
        write_text_atomic(stage.dir / "report.html", render_decontam_html(result.to_json()))
        stage.commit()
    return result


def _set_name(path: Path, sets: list) -> str:
    """The evaluation set's name: its file name (with its folder when two share a name)."""
    names = [p.name for p, _ in sets]
    return path.name if names.count(path.name) == 1 else f"{path.parent.name}/{path.name}"
