"""curadebt: find, measure and pay down data curation debt in language-model training sets.

``curadebt.audit``, ``curadebt.curate`` and ``curadebt.explain`` are the Python API
(:mod:`curadebt.api`); the measures live in :mod:`curadebt.measures`, the curate ops in
:mod:`curadebt.curation`.
"""
from curadebt.api import audit, curate, explain
from curadebt.version import __version__

__all__ = ["audit", "curate", "explain", "__version__"]
