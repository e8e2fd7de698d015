"""``python -m curadebt.cli``: the ``curadebt`` command."""
from curadebt.cli import app

app()
