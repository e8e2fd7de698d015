"""Trace model output back to training data: a token index (memory-mapped token ids + suffix
array, sharded) with exact counts, documents, next-token distributions and OLMoTrace-style
maximal spans; an HTML view of a trace. See docs/trace.md."""
from curadebt.trace.build import BuildReport, build_index, build_index_from_documents
from curadebt.trace.index import TokenIndex

__all__ = ["BuildReport", "TokenIndex", "build_index", "build_index_from_documents"]
