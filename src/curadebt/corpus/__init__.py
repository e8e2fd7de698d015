"""Documents, streaming readers and quarantine."""
from curadebt.corpus.batch import Batch
from curadebt.core.document import Document
from curadebt.corpus.quarantine import Quarantine, QuarantineRecord
from curadebt.corpus.readers import CorpusError, ReadStats, ReaderConfig, decode_text, iter_batches, iter_documents

__all__ = ["Batch", "Document", "Quarantine", "QuarantineRecord", "CorpusError", "ReadStats", "ReaderConfig",
           "decode_text", "iter_batches", "iter_documents"]
