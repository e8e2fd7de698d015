"""Command line for the token index and tracing.

Mounted by :mod:`curadebt.cli` as ``curadebt index ...`` (the Typer sub-app ``index_app``) and
``curadebt trace ...`` (the command function :func:`trace`). Every command is a thin call into
:mod:`curadebt.trace.build` / :mod:`curadebt.trace.index`.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from curadebt.report.console import console, err
from rich.markup import escape

from curadebt.cli.kit import config_options, data
from curadebt.corpus.records import ReaderConfig
from rich.table import Table

from curadebt.core.atomic import write_text_atomic
from curadebt.trace.build import IndexBuildConfig, build_index
from curadebt.trace.index import SpanFilter, TokenIndex


EXIT_USAGE = 2

index_app = typer.Typer(
    name="index",
    help="Build and query a token index of a corpus (memory-mapped tokens + suffix array): "
         "exact n-gram counts, the documents that contain a text, next-token distributions, "
         "and the maximal spans of a text found verbatim in the corpus.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _open(index: Path) -> TokenIndex:
    return TokenIndex.open(index)  # a missing or damaged index: IndexError_, exit 3 (curadebt.core.errors)


def _query(text: str, ids: bool, allow_empty: bool = False):
    if not ids:
        if not allow_empty and not text.strip():
            err.print("[red]error:[/] the query is empty")
            raise typer.Exit(EXIT_USAGE)
        return text
    try:
        return [int(x) for x in text.replace(",", " ").split()]
    except ValueError:
        err.print("[red]error:[/] --ids expects token ids separated by spaces or commas")
        raise typer.Exit(EXIT_USAGE)


def _dump(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1) + "\n")


@index_app.command("build")
@config_options(ReaderConfig, IndexBuildConfig)
def build(
    corpus: list[str] = typer.Argument(..., help="JSONL (.gz/.zst), JSON arrays, CSV/TSV, Parquet, Arrow or text files, folders of them, saved HF datasets, or quoted globs."),
    out: Path = typer.Option(..., "--out", "-o", help="Index folder to write (written to a temporary folder, then renamed)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing index at --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the build report as JSON."),
    *,
    configs: tuple,
):
    """Tokenise a corpus and build its token index (suffix array per shard). Every option can also
    come from a --config YAML file."""
    cfg, build_cfg = configs
    t0 = time.perf_counter()
    last = [0.0]

    def on_batch(docs: int, toks: int) -> None:
        now = time.perf_counter()
        if not as_json and now - last[0] > 2.0:
            last[0] = now
            err.print(f"  {docs:,} documents, {toks:,} tokens ({toks / max(now - t0, 1e-9):,.0f} tokens/s)", highlight=False)

    from curadebt.inputs import path_inputs

    with path_inputs(list(corpus)) as inputs:  # remote URLs are copied for the build
        report = build_index(inputs, out, tokenizer=build_cfg.tokenizer, reader_config=cfg,
                             shard_tokens=build_cfg.shard_tokens, store_text=build_cfg.store_text, overwrite=force,
                             quarantine_path=build_cfg.quarantine,
                             workers=build_cfg.workers or min(os.cpu_count() or 1, 8), on_batch=on_batch)
    if as_json:
        _dump(report.to_json())
        return
    t = Table(title=f"index {data(out)}", show_header=False)
    t.add_column("")
    t.add_column("", justify="right")
    rs = report.read_stats
    t.add_row("documents", f"{report.documents:,}")
    if rs:
        t.add_row("documents read / quarantined", f"{rs.get('documents_read', 0):,} / {rs.get('documents_quarantined', 0):,}")
    if report.quarantined:
        t.add_row("quarantine reasons", ", ".join(f"{data(k)} {v}" for k, v in report.quarantined.items()))
    t.add_row("tokens (+1 separator per document)", f"{report.tokens:,}")
    t.add_row("vocabulary", f"{report.vocab_size:,}")
    t.add_row("shards", f"{report.shards} (dtype {', '.join(report.token_dtypes)})")
    t.add_row("build time", f"{report.seconds:.2f} s (tokenise {report.tokenize_seconds:.2f}, suffix sort {report.sort_seconds:.2f}, write {report.write_seconds:.2f})")
    t.add_row("throughput", f"{report.tokens_per_second:,.0f} tokens/s")
    t.add_row("bytes/token (tokens + suffix array)", f"{report.index_bytes_per_token:.2f}")
    t.add_row("bytes/token (all files, text included)", f"{report.total_bytes_per_token:.2f}")
    console.print(t)


@index_app.command("count")
def count(
    index: Path = typer.Argument(..., help="Index folder."),
    query: str = typer.Argument(..., help="Text (tokenised with the index's tokenizer) or, with --ids, token ids."),
    ids: bool = typer.Option(False, "--ids", help="QUERY is token ids separated by spaces or commas."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Exact number of occurrences of a token sequence."""
    idx = _open(index)
    q = idx.encode(_query(query, ids))
    t0 = time.perf_counter()
    n = idx.count(q)
    ms = (time.perf_counter() - t0) * 1e3
    if as_json:
        _dump({"query": q.tolist(), "tokens": [idx.token_str(int(i)) for i in q], "count": n, "ms": ms})
    else:
        console.print(f"{n:,}  [dim]({len(q)} tokens, {ms:.2f} ms)[/]")


@index_app.command("docs")
def docs(
    index: Path = typer.Argument(..., help="Index folder."),
    query: str = typer.Argument(..., help="Text or, with --ids, token ids."),
    limit: int = typer.Option(10, help="Documents to show (n_documents is always the exact total)."),
    order: str = typer.Option("corpus", help="'corpus' (reading order) or 'count' (most occurrences first)."),
    context_chars: int = typer.Option(80, help="Characters of context on each side of the match."),
    ids: bool = typer.Option(False, "--ids", help="QUERY is token ids."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Documents that contain a text, with snippets."""
    idx = _open(index)
    q = idx.encode(_query(query, ids))
    if len(q) == 0:
        err.print(f"[red]error:[/] {data(repr(query))} has no tokens under the index's tokenizer")
        raise typer.Exit(EXIT_USAGE)
    try:
        res = idx.documents(q, limit=limit, context_chars=context_chars, order=order)
    except ValueError as e:
        err.print(f"[red]error:[/] {escape(str(e))}")
        raise typer.Exit(EXIT_USAGE)
    if as_json:
        _dump(res.to_json())
        return
    console.print(f"{res.count:,} occurrences in {res.n_documents:,} documents")
    for d in res.documents:
        src = f" [{data(d.source)}]" if d.source else ""
        console.print(f"[bold]{data(d.id)}[/]{src} ×{d.count}", highlight=False, markup=True)
        console.print("  " + d.snippet.replace("\n", " "), highlight=False, markup=False)


@index_app.command("next")
def next_(
    index: Path = typer.Argument(..., help="Index folder."),
    context: str = typer.Argument("", help="Context text (empty: the unigram distribution)."),
    k: int = typer.Option(10, "-k", "--top", help="Most frequent next tokens to show."),
    ids: bool = typer.Option(False, "--ids", help="CONTEXT is token ids."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Distribution of the token that follows a context in the corpus."""
    idx = _open(index)
    res = idx.next_tokens(_query(context, ids, allow_empty=True), k=k)
    if as_json:
        _dump(res.to_json())
        return
    t = Table(title=f"after {data(repr(context))}: {res.count:,} occurrences ({res.end_of_document:,} at a document end)")
    for c in ("token", "id", "count", "p"):
        t.add_column(c, justify="right" if c != "token" else "left")
    for c in res.candidates:
        t.add_row(data(c.token), str(c.id), f"{c.count:,}", f"{c.prob:.4f}")
    console.print(t)


@index_app.command("spans")
@config_options(SpanFilter)
def spans(
    index: Path = typer.Argument(..., help="Index folder."),
    text: str = typer.Argument(..., help="Text to look for in the corpus."),
    docs_per_span: int = typer.Option(5, help="Documents listed per span."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    *,
    config: SpanFilter,
):
    """Maximal spans of a text that occur verbatim in the corpus."""
    idx = _open(index)
    res = idx.maximal_spans(text, **config.kwargs(), docs_per_span=docs_per_span)
    if as_json:
        _dump(res.to_json())
        return
    _print_spans(res)


def _print_spans(res, curation: dict | None = None) -> None:
    t = Table(title=f"{len(res.spans)} spans kept, {len(res.filtered)} maximal spans filtered out")
    for c in ("span", "tokens", "count", "docs", "log10 p", "first documents"):
        t.add_column(c)

    def doc(d) -> str:
        if curation is None:
            return d.id
        c = curation.get(d.id)
        return f"{d.id} ({c['label'] if c else 'not in the ledger'})"

    for s in res.spans:
        t.add_row(data(s.text.replace("\n", " ")), str(s.length), f"{s.count:,}", f"{s.n_documents:,}",
                  f"{s.log10_unigram_prob:.1f}", data(", ".join(doc(d) for d in s.documents[:3])))
    console.print(t)


@config_options(SpanFilter)
def trace(
    index: Path = typer.Option(..., "--index", "-i", help="Index folder (`curadebt index build`)."),
    text: Optional[str] = typer.Option(None, "--text", help="Text to trace (e.g. a model output)."),
    text_file: Optional[Path] = typer.Option(None, "--text-file", help="Read the text to trace from a file."),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="The prompt (shown; spans also found in it are flagged); with --model, what the model continues."),
    output: Optional[str] = typer.Option(None, "--output", help="The model output to trace (with --prompt)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Generate the output with this local model (smollm2-135m, gemma3-270m, a folder or .gguf), then trace it."),
    max_new_tokens: int = typer.Option(48, help="--model: tokens to generate."),
    sample: bool = typer.Option(False, "--sample/--greedy", help="--model: sample (top-p 0.95, temperature 0.8, seeded) instead of greedy decoding."),
    seed: int = typer.Option(0, help="--model --sample: the seed (same seed, same text)."),
    ledger: Optional[Path] = typer.Option(None, "--ledger", "-l", help="A curate ledger.parquet (or its folder): show each document's curate decision (kept x k, dropped by which op, why)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the result as JSON to this file ('-' for stdout instead of the table)."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write a self-contained HTML view to this file."),
    docs_per_span: int = typer.Option(10, help="Documents listed per span."),
    *,
    config: SpanFilter,
):
    """Trace a text (a model output) back to the training documents it repeats verbatim.

    Give the text (--text, --text-file, --output with --prompt) or let a local model write it
    (--model with --prompt). With --ledger every document shown carries its curate decision.
    """
    given = [x is not None for x in (text, text_file, output, model)]
    if sum(given) != 1:
        err.print("[red]error:[/] give exactly one of --text, --text-file, --output (with --prompt) or --model (with --prompt)")
        raise typer.Exit(EXIT_USAGE)
    generation = None
    if model is not None:
        if not prompt:
            err.print("[red]error:[/] --model needs --prompt (the text the model continues)")
            raise typer.Exit(EXIT_USAGE)
        generation = _generate(model, prompt, max_new_tokens, sample, seed)
        target = generation.output
    elif text_file is not None:
        target = text_file.read_text(encoding="utf-8", errors="replace")
    else:
        target = text if text is not None else output
    idx = _open(index)
    t0 = time.perf_counter()
    res = idx.maximal_spans(target, **config.kwargs(), docs_per_span=docs_per_span, prompt=prompt)
    secs = time.perf_counter() - t0
    curation = _curation(ledger, res) if ledger is not None else None
    result = res.to_json()
    result["prompt"] = prompt
    result["seconds"] = secs
    if generation is not None:
        result["generation"] = generation.to_json()
    if curation is not None:
        result["curation"] = {"ledger": str(ledger), "documents": curation}
    if json_out is not None:  # without --json / --html: the table of spans, for a person
        payload = json.dumps(result, ensure_ascii=False, indent=1) + "\n"
        if str(json_out) == "-":
            sys.stdout.write(payload)
        else:
            write_text_atomic(json_out, payload)
    if html_out is not None:
        from curadebt.trace.html import render_trace_html

        write_text_atomic(html_out, render_trace_html(res, prompt=prompt, curation=curation))
    if str(json_out) != "-":
        if generation is not None:
            console.print(f"[bold]{data(generation.model)}[/] ({'sampled, seed ' + str(seed) if sample else 'greedy'}): "
                          f"{data(prompt)}[green]{data(generation.output)}[/]", highlight=False)
        _print_spans(res, curation)
        err.print(f"traced {res.n_tokens:,} tokens in {secs * 1e3:.0f} ms"
                  + (f"; JSON: {json_out}" if json_out else "") + (f"; HTML: {html_out}" if html_out else ""), highlight=False)


def _generate(model: str, prompt: str, max_new_tokens: int, sample: bool, seed: int):
    from curadebt.lab.generate import generate
    from curadebt.lab.models import ModelNotAvailable, load_model, resolve_model

    try:
        with console.status(f"loading {model} ..."):
            lm = load_model(resolve_model(model))
    except ModelNotAvailable as e:
        err.print(f"[red]model not available:[/red] {escape(str(e))}")
        raise typer.Exit(EXIT_USAGE)
    return generate(lm, prompt, max_new_tokens=max_new_tokens, sample=sample, seed=seed)


def _curation(ledger: Path, res) -> dict[str, dict]:
    """Document id -> its curate decision, for every document the spans list."""
    from curadebt.curation.ledger import decision_text, decisions

    ids = [d.id for s in res.spans for d in s.documents]
    found = decisions(ledger, ids)
    return {i: {**d, "label": decision_text(d), "explain": f"curadebt explain {i} --ledger {ledger}"}
            for i, d in found.items()}
