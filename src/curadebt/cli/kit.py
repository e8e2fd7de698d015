"""What every curadebt command shares: one-line errors with the documented exit codes.

:class:`HandledGroup` is the click group of the ``curadebt`` app (and of the stand-alone sub-apps
used in tests). Any exception a command raises is printed as one line, ``label: message``, and
turned into the exit code of :mod:`curadebt.core.errors`; ``--debug`` (or ``CURADEBT_DEBUG=1``) prints
the traceback as well. Text from the data is escaped for rich markup everywhere it is printed.
"""
from __future__ import annotations

import os
import traceback

import typer
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import TyperException

from curadebt.report.console import data, err  # noqa: F401  (data: for the commands)
from curadebt.core.errors import classify

_debug = False


def set_debug(value: bool) -> None:
    global _debug
    _debug = bool(value)


def debug_enabled() -> bool:
    return _debug or os.environ.get("CURADEBT_DEBUG", "") not in ("", "0")


def report_error(e: BaseException) -> int:
    """Print ``e`` for the user (one line; the traceback too under --debug); returns the exit code."""
    code, label, msg = classify(e)
    if debug_enabled():
        err.print(escape("".join(traceback.format_exception(e))), highlight=False)
    err.print(f"[red]{escape(label)}:[/] {escape(msg)}", highlight=False)
    return code


class HandledGroup(TyperGroup):
    """A Typer group whose commands never end in a Python traceback (see the module docstring)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # exits and usage errors: Typer shows them
            raise
        except (Exception, KeyboardInterrupt) as e:
            raise typer.Exit(report_error(e)) from None
