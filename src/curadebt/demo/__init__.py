"""The demo world: a synthetic corpus with planted curation debts and its ground truth."""
from curadebt.worlds.demo import WorldManifest, generate_world

__all__ = ["WorldManifest", "generate_world"]
