"""The ``curadebt`` command line. Every command is a thin call into the Python API."""
from __future__ import annotations

from pathlib import Path


import typer

from curadebt.version import __version__
from curadebt.core.errors import exit_codes_text
from curadebt.cli.kit import HandledGroup, config_options, data, set_debug
from curadebt.measures.config import AuditConfig
from curadebt.report.console import console, err

app = typer.Typer(
    name="curadebt",
    help="Find, measure and pay down data curation debt in language-model training sets.\n\n"
         "Start with `curadebt demo` (a built-in corpus with planted debts), then "
         "`curadebt audit CORPUS --out DIR` on your own data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    cls=HandledGroup,
)


def _version(value: bool):
    if value:
        console.print(f"curadebt {__version__}")
        raise typer.Exit()


@app.callback(epilog=exit_codes_text())
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
         debug: bool = typer.Option(False, "--debug", help="On an error, print the Python traceback too "
                                                           "(also CURADEBT_DEBUG=1).")):
    set_debug(debug)


@app.command()
@config_options(AuditConfig)
def audit(
    corpus: list[str] = typer.Argument(..., help="JSONL (.gz/.zst), JSON arrays, CSV/TSV, Parquet, Arrow or text files, folders of them, saved HF datasets (DatasetDict too), or quoted globs ('data/*.parquet')."),
    out: Path = typer.Option(Path("curadebt-report"), "--out", "-o", help="Folder for report.json, report.html and quarantine.jsonl."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty --out that curadebt did not write "
                                                      "(its files are kept, never deleted or overwritten)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    *,
    config: AuditConfig,
):
    """Audit a corpus for curation debt and write report.json + report.html.

    Measures token/n-gram frequency imbalance, exact and near duplicates, entity salience and token
    spillover, source mixture, training-order concentration and (with --probes) the data-side odds of
    competing facts, then scores each debt dimension. Bad records are quarantined, never dropped:
    documents_read = documents_audited + documents_quarantined. The report folder is written as one
    change (with a manifest.json) and may not overlap the input. Every option can also come from a
    --config YAML file.
    """
    from curadebt.measures.runner import audit as run_audit
    from curadebt.inputs import path_inputs

    with path_inputs(list(corpus)) as inputs:  # remote URLs are copied for the run
        report = run_audit(inputs, out, config, progress=not quiet, force=force)
    if not quiet:
        from curadebt.report.summary import print_audit_summary

        print_audit_summary(report, out)


@app.command()
def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", "-o", help="Folder for the generated corpus and its report."),
    seed: int = typer.Option(0, help="Seed of the generated world; same seed, same bytes."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Generate a small corpus with planted debts, audit it, and check the report names every one."""
    from curadebt.demo.run import run_demo

    ok = run_demo(out, seed=seed, progress=not quiet, console=console if not quiet else None)
    if not ok:
        raise typer.Exit(1)


@app.command()
def verify(
    out: Path = typer.Argument(..., help="An output folder of `curadebt audit`, `curate` or `index build`."),
    checksums: bool = typer.Option(False, "--checksums", help="Also compare every file's contents with its "
                                                              "checksum in the manifest (reads everything)."),
):
    """Check an output folder: every file against its manifest.json (sizes, and checksums with
    --checksums); for a curate output also the report's books and that every place the ledger points
    at holds that document (id and text checksum), exactly once. Exit 1 on any mismatch."""
    from curadebt.corpus.outdir import read_manifest, verify_output
    from curadebt.core.errors import EXIT_CHECK_FAILED

    man = read_manifest(out)
    kind = (man or {}).get("kind")
    counts: dict = {}
    if kind == "curate":
        from curadebt.curation.verify import verify_curate_output

        problems, counts = verify_curate_output(out, checksums=checksums)
    else:
        problems = verify_output(out, checksums=checksums)
        if not problems and kind == "index":
            from curadebt.trace.index import TokenIndex

            TokenIndex.open(out, verify=checksums)
    if problems:
        for p in problems:
            err.print(f"[red]mismatch:[/] {data(p)}", highlight=False)
        raise typer.Exit(EXIT_CHECK_FAILED)
    n = len(man["files"]) if man else 0
    what = "sizes and checksums" if checksums else "sizes"
    extra = (f"; the ledger's {counts['references']:,} output places hold its documents"
             if counts.get("references") is not None and kind == "curate" else "")
    console.print(f"ok: {data(out)} is a whole curadebt {data(kind)} output ({n} files match the manifest's {what}"
                  f"{extra})", highlight=False)


def _mount_sub_apps() -> None:
    """Sub-commands that live beside their API (curate, trace, lab). Their heavy imports
    (torch, transformers) happen inside the commands, so `curadebt --help` stays fast."""
    from curadebt.cli.curate import curate as curate_command, explain as explain_command
    from curadebt.cli.trace import index_app, trace as trace_command

    app.command(name="curate")(curate_command)
    app.command(name="explain")(explain_command)
    app.add_typer(index_app, name="index", help="Build and query a suffix-array index of a corpus (for trace).")
    app.command(name="trace")(trace_command)
    from curadebt.cli.decontaminate import decontaminate

    app.command(name="decontaminate")(decontaminate)
    from curadebt.cli.lab import lab_app

    app.add_typer(lab_app, name="lab", help="Measure curation debt on real models (fact overwrite, ...).")


_mount_sub_apps()
