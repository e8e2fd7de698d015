"""The errors curadebt raises on purpose, and the one table of exit codes.

Every error meant for a user derives from :class:`CuradebtError` and carries its exit code; the
CLI prints its message on one line and exits with that code (``--debug`` adds the traceback).
Anything else reaching the CLI is a bug: it is reported as an internal error (exit 70).

==== =====================================================================================
code meaning
==== =====================================================================================
0    success
1    a check failed (``demo`` found a planted debt missing, ``explain`` found no such id,
     ``verify`` found a mismatch)
2    usage: a bad option, recipe, tokenizer, model name or optional dependency
3    bad input: a corpus, probe file or index that cannot be read, or holds no document
4    reconciliation failed: the books do not balance (nothing was committed)
5    output: ``--out`` overlaps the input, holds files curadebt did not write, is locked by
     another run, or cannot be written (disk full, permissions)
70   internal error (a bug; please report it with the ``--debug`` output)
130  interrupted (Ctrl-C); nothing was committed
==== =====================================================================================
"""
from __future__ import annotations

import errno

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_RECONCILIATION = 4
EXIT_OUTPUT = 5
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

#: the exit codes in a few words each, for ``--help`` (the table above says more)
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "ok", EXIT_CHECK_FAILED: "a check failed", EXIT_USAGE: "usage", EXIT_INPUT: "bad input",
    EXIT_RECONCILIATION: "reconciliation failed", EXIT_OUTPUT: "output folder refused or unwritable",
    EXIT_INTERNAL: "internal error", EXIT_INTERRUPTED: "interrupted",
}


def exit_codes_text() -> str:
    return "Exit codes: " + ", ".join(f"{code} {what}" for code, what in EXIT_CODES.items()) + "."

#: OSError numbers that mean "the output cannot be written" rather than a bug.
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EFBIG, errno.EMFILE}


class CuradebtError(Exception):
    """An error with a message for the user and an exit code."""

    exit_code: int = EXIT_INPUT
    label: str = "error"


def classify(e: BaseException) -> tuple[int, str, str]:
    """(exit code, label, one-line message) for an exception reaching the CLI."""
    if isinstance(e, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted", "stopped by Ctrl-C; nothing was committed"
    if isinstance(e, CuradebtError):
        return e.exit_code, e.label, _one_line(str(e))
    if isinstance(e, OSError) and e.errno in _OUTPUT_ERRNOS:
        where = f" ({e.filename})" if e.filename else ""
        return EXIT_OUTPUT, "cannot write", f"{e.strerror or e}{where}; nothing was committed"
    if isinstance(e, (FileNotFoundError, NotADirectoryError, IsADirectoryError)):
        return EXIT_INPUT, "error", _one_line(str(e))
    return (EXIT_INTERNAL, "internal error",
            f"{type(e).__name__}: {_one_line(str(e))} (a bug: please report it with the output of the same command "
            "with --debug)")


def _one_line(s: str) -> str:
    return " ".join(s.split()) if "\n" in s else s
