"""The two rich consoles every command and console summary prints to, and :func:`data`.

Output that is not a terminal (a log file, a pipe) is 160 columns wide instead of rich's 80, so
tables are not cut. Errors go to stderr without soft wrapping: a wrapped line would break a path or a command the user
wants to copy, and would make the text depend on the terminal's width.
"""
from __future__ import annotations

import os

from rich.console import Console
from rich.markup import escape

console = Console()
if not console.is_terminal and "COLUMNS" not in os.environ:
    console.width = 160  # a log or a pipe: rich would cut tables to 80 columns ("dropp...")
err = Console(stderr=True, soft_wrap=True)


def data(value) -> str:
    """A value from the data (an entity, a path, a source name) made safe for rich markup."""
    return escape(str(value))
