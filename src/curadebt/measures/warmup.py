"""Imported by the local engine's fork server before it forks workers: the measures' modules and
their compiled functions, loaded once, so every worker forked from it starts with them."""
from curadebt.core.document import Document
from curadebt.corpus.batch import Batch
from curadebt.measures.config import AuditConfig
from curadebt.measures.runner import build_measures


def warm_up() -> None:
    batch = Batch([Document("warm-up", "Warm up the Measures of New York, the first words of a text.", 0)])
    for m in build_measures(AuditConfig()):
        m.accumulate(m.empty(), batch)


warm_up()
