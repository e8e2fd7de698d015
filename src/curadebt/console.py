"""The CLI's two rich consoles, shared by every sub-command.

Errors go to stderr without soft wrapping: a wrapped line would break a path or a command the user
wants to copy, and would make the text depend on the terminal's width.
"""
from __future__ import annotations

from rich.console import Console

console = Console()
err = Console(stderr=True, soft_wrap=True)
