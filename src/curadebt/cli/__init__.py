"""The ``curadebt`` command line: one module per command group, each a thin call into the API.

``main`` holds the app (audit, demo, verify) and mounts ``curate`` (curate, explain), ``trace``
(index, trace) and ``lab``; ``kit`` holds what every command shares (errors to exit codes, options
generated from config dataclasses)."""
from curadebt.cli.main import app

__all__ = ["app"]
