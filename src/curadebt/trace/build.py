"""Build a token index: memory-mapped token ids + suffix array (libdivsufsort), per shard.

Layout of an index folder (all arrays little-endian ``.npy`` or raw binary, memory-mapped when read)::

    IDX/
      index.json            format, tokenizer, shards, totals, build numbers
      tokenizer/            vocab.json (word tokenizer) or tokenizer.json (a model's)
      unigram.npy           int64 count per token id over the whole corpus (separators excluded)
      shard-00000/
        tokens.bin          token ids, big-endian uint16 or uint32; one separator after every document
        sa.bin              suffix array over tokens.bin (uint32 positions; uint64 past 2**32 tokens)
        doc_starts.npy      int64 [n_docs + 1]: first token of each document (last entry = n_tokens)
        doc_ids.bin/.npy    document ids (UTF-8 blob + int64 offsets)
        sources.npy         int32 code per document into index.json's shard "sources" list (-1 = none)
        text.bin/.npy       the documents' text (UTF-8 blob + int64 offsets), for snippets

Tokens are stored big-endian so that byte order equals token order: libdivsufsort sorts the
bytes of the shard and the suffixes that start on a token boundary come out in token-lexicographic
order (this is what ``pydivsufsort.divsufsort`` does for integer arrays, without its extra copies).

The separator is the largest value of the token dtype (0xFFFF or 0xFFFFFFFF); no query token can
take that value, so no match ever crosses a document boundary, and a read past the end of a
shard lands on the final separator.

A shard holds at most ``shard_tokens`` tokens (a single larger document gets a shard of its own);
the sort needs about ``(4 or 8) x width x tokens`` bytes of memory for one shard at a time, so the
budget bounds memory and lets corpora larger than memory be indexed. Queries fan out over the
shards and add up.

Writes are all or nothing (:mod:`curadebt.corpus.outdir`): everything goes to a staging folder
beside ``out`` that replaces it in one step at the end, with a ``manifest.json`` of every file's
size and XXH3-128 checksum. ``index.json`` also records the checksum of the tokenizer files, so an
index whose vocabulary was swapped is refused on open (:meth:`TokenIndex.open`).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from curadebt.core.config import setting
from curadebt.core.errors import EXIT_USAGE, CuradebtError
from curadebt.corpus import Document, Quarantine, ReaderConfig, ReadStats, iter_documents
from curadebt.corpus.batch import chunked
from curadebt.corpus.sources import expand_inputs
from curadebt.trace.vocab import IdTokenizer, WordIdTokenizer, make_id_tokenizer, word_batch_local

FORMAT = "curadebt-token-index"
FORMAT_VERSION = 1
DEFAULT_SHARD_TOKENS = 100_000_000


@dataclass
class IndexBuildConfig:
    """How an index is built (besides how the corpus is read: a ReaderConfig)."""

    tokenizer: str = setting("words", help="'words' (regex words, case kept), 'words-lower', a tokenizer.json, or a "
                                           "model folder (the model's own token ids).")
    shard_tokens: int = setting(DEFAULT_SHARD_TOKENS, help="Token budget per shard: bounds build memory (about 10-20 "
                                                           "bytes per token of a shard); queries fan out over shards.")
    store_text: bool = setting(True, flag="--store-text/--no-store-text",
                               help="Keep the documents' text in the index for snippets (else snippets are rebuilt "
                                    "from tokens).")
    workers: int = setting(0, help="Processes tokenising with the word tokenizer (0: one per CPU, at most 8). The ids "
                                   "do not depend on it.")
    quarantine: str | None = setting(None, help="Write quarantined records (bad JSON, invalid UTF-8, empty text...) "
                                                "to this JSONL file.")
U16_SEP = 0xFFFF
U32_SEP = 0xFFFFFFFF
_FILTER_CHUNK = 1 << 24


class IndexBuildError(CuradebtError):
    exit_code = EXIT_USAGE


@dataclass
class BuildReport:
    path: str
    documents: int
    tokens: int  # corpus tokens, separators excluded
    separators: int
    shards: int
    vocab_size: int
    token_dtypes: list[str]
    seconds: float
    tokenize_seconds: float
    sort_seconds: float
    write_seconds: float
    tokens_per_second: float
    index_bytes: int  # tokens.bin + sa.bin
    total_bytes: int  # everything in the folder (document text, ids, metadata included)
    index_bytes_per_token: float
    total_bytes_per_token: float
    read_stats: dict = field(default_factory=dict)
    quarantined: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


def sep_for(dtype: np.dtype) -> int:
    return U16_SEP if np.dtype(dtype).itemsize == 2 else U32_SEP


def suffix_array(tokens_be: np.ndarray) -> np.ndarray:
    """Suffix array of a big-endian token array (positions in tokens, uint32 or uint64).

    libdivsufsort sorts bytes; with big-endian fixed-width tokens, the byte suffixes that start on
    a token boundary are in token-lexicographic order, so keeping those (divided by the width)
    is the token suffix array.
    """
    from pydivsufsort import divsufsort

    assert tokens_be.dtype.byteorder == ">" or tokens_be.dtype.itemsize == 1
    w = tokens_be.dtype.itemsize
    n = len(tokens_be)
    raw = tokens_be.view(np.uint8)
    byte_sa = divsufsort(raw)
    out = np.empty(n, dtype=np.uint32 if n < 2**32 else np.uint64)
    k = 0
    for s in range(0, len(byte_sa), _FILTER_CHUNK):
        c = byte_sa[s:s + _FILTER_CHUNK]
        sel = c[(c & (w - 1)) == 0]
        out[k:k + len(sel)] = sel // w
        k += len(sel)
    del byte_sa
    if k != n:  # pragma: no cover - would be a libdivsufsort bug
        raise IndexBuildError(f"suffix array has {k} token suffixes, expected {n}")
    return out


def _doc_source(doc: Document) -> str | None:
    if doc.source is not None:
        return str(doc.source)
    s = doc.meta.get("source") if doc.meta else None
    return s if isinstance(s, str) else None


class _ShardWriter:
    def __init__(self, folder: Path, number: int, doc_base: int, store_text: bool):
        self.folder = folder
        self.number = number
        self.doc_base = doc_base
        self.store_text = store_text
        folder.mkdir(parents=True)
        self.arrays: list[np.ndarray] = []
        self.doc_ids: list[str] = []
        self.sources: list[int] = []
        self.source_names: dict[str, int] = {}
        self.n_tokens = 0  # separators included
        self.max_id = -1
        self.text_offsets = [0]
        self._text_fh = open(folder / "text.bin", "wb") if store_text else None

    @property
    def n_docs(self) -> int:
        return len(self.doc_ids)

    def add(self, doc: Document, ids: np.ndarray) -> None:
        if len(ids):
            self.max_id = max(self.max_id, int(ids.max()))
        self.arrays.append(ids.astype(np.uint32))
        self.n_tokens += len(ids) + 1
        self.doc_ids.append(doc.id)
        src = _doc_source(doc)
        self.sources.append(-1 if src is None else self.source_names.setdefault(src, len(self.source_names)))
        if self._text_fh is not None:
            b = doc.text.encode("utf-8", "surrogatepass")
            self._text_fh.write(b)
            self.text_offsets.append(self.text_offsets[-1] + len(b))

    def finish(self) -> tuple[dict, float, float]:
        """Write the shard; returns (meta, sort_seconds, write_seconds)."""
        t0 = time.perf_counter()
        if self._text_fh is not None:
            self._text_fh.close()
            np.save(self.folder / "text.npy", np.asarray(self.text_offsets, dtype=np.int64))
        if self.max_id >= U32_SEP:
            raise IndexBuildError(f"token id {self.max_id} does not fit in uint32")
        dtype = np.dtype(">u2") if self.max_id < U16_SEP else np.dtype(">u4")
        sep = sep_for(dtype)
        n = self.n_tokens
        tokens = np.empty(n, dtype=dtype)
        starts = np.empty(self.n_docs + 1, dtype=np.int64)
        pos = 0
        for j, a in enumerate(self.arrays):
            starts[j] = pos
            tokens[pos:pos + len(a)] = a
            pos += len(a)
            tokens[pos] = sep
            pos += 1
        starts[-1] = pos
        self.arrays = []
        tokens.tofile(self.folder / "tokens.bin")
        np.save(self.folder / "doc_starts.npy", starts)
        blob = [s.encode("utf-8", "surrogatepass") for s in self.doc_ids]
        with open(self.folder / "doc_ids.bin", "wb") as fh:
            fh.write(b"".join(blob))
        np.save(self.folder / "doc_ids.npy", np.concatenate([[0], np.cumsum([len(b) for b in blob])]).astype(np.int64))
        np.save(self.folder / "sources.npy", np.asarray(self.sources, dtype=np.int32))
        t1 = time.perf_counter()
        sa = suffix_array(tokens)
        t2 = time.perf_counter()
        sa.tofile(self.folder / "sa.bin")
        del sa, tokens
        t3 = time.perf_counter()
        meta = {
            "dir": self.folder.name,
            "n_tokens": n,
            "n_docs": self.n_docs,
            "doc_base": self.doc_base,
            "dtype": dtype.str,
            "sa_dtype": "<u4" if n < 2**32 else "<u8",
            "separator": sep,
            "sources": list(self.source_names),
            "text": self.store_text,
        }
        (self.folder / "meta.json").write_text(json.dumps(meta, indent=1))
        return meta, t2 - t1, (t1 - t0) + (t3 - t2)


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def build_index_from_documents(docs: Iterable[Document], out: str | os.PathLike, tokenizer: str | IdTokenizer | None = "words",
                               shard_tokens: int = DEFAULT_SHARD_TOKENS, store_text: bool = True, overwrite: bool = False,
                               batch_size: int = 1000, workers: int = 1, on_batch: Callable[[int, int], None] | None = None,
                               read_stats: ReadStats | None = None, quarantine: Quarantine | None = None,
                               corpus_desc: list[str] | None = None, inputs: list | None = None) -> BuildReport:
    """Index documents into ``out`` (see the module docstring for the layout). ``inputs``: the
    corpus paths, which ``out`` may not overlap."""
    from curadebt.corpus.outdir import staged_output

    out = Path(out)
    if shard_tokens < 2:
        raise IndexBuildError("shard_tokens must be at least 2")
    tok = tokenizer if isinstance(tokenizer, IdTokenizer) else make_id_tokenizer(tokenizer)
    with staged_output(out, kind="index", inputs=inputs or (), force=overwrite, replace=overwrite) as stage:
        report = _build_into(docs, stage.dir, out, tok, shard_tokens, store_text, batch_size, workers, on_batch,
                             read_stats, quarantine, corpus_desc)
        stage.commit()
    return report


def tokenizer_checksum(folder: Path) -> str:
    """One XXH3-128 over the tokenizer files of an index (names and bytes, in name order)."""
    import xxhash

    from curadebt.corpus.outdir import file_checksum

    h = xxhash.xxh3_128()
    for p in sorted(q for q in folder.rglob("*") if q.is_file()):
        h.update(p.relative_to(folder).as_posix().encode() + b"\0" + file_checksum(p).encode())
    return h.hexdigest()


def _build_into(docs, tmp: Path, out: Path, tok: IdTokenizer, shard_tokens: int, store_text: bool, batch_size: int,
                workers: int, on_batch, read_stats, quarantine, corpus_desc) -> BuildReport:
    t_start = time.perf_counter()
    tokenize_s = sort_s = write_s = 0.0
    shards: list[dict] = []
    unigram = np.zeros(max(tok.vocab_size, 1), dtype=np.int64)
    writer: _ShardWriter | None = None
    n_docs = 0
    n_tok = 0

    def flush() -> None:
        nonlocal writer, sort_s, write_s
        if writer is not None and writer.n_docs:
            meta, s, w = writer.finish()
            shards.append(meta)
            sort_s += s
            write_s += w
        writer = None

    for batch, ids_list, secs in _encoded_batches(docs, tok, batch_size, workers):
        t0 = time.perf_counter() - secs
        if ids_list:
            allids = np.concatenate(ids_list) if len(ids_list) > 1 else ids_list[0]
            if len(allids):
                if int(allids.min()) < 0:
                    raise IndexBuildError("tokenizer produced a negative id")
                counts = np.bincount(allids)
                if len(counts) > len(unigram):
                    unigram = np.concatenate([unigram, np.zeros(len(counts) - len(unigram), dtype=np.int64)])
                unigram[:len(counts)] += counts
        tokenize_s += time.perf_counter() - t0
        for d, ids in zip(batch, ids_list):
            need = len(ids) + 1
            if writer is not None and writer.n_docs and writer.n_tokens + need > shard_tokens:
                flush()
            if writer is None:
                writer = _ShardWriter(tmp / f"shard-{len(shards):05d}", len(shards), n_docs, store_text)
            writer.add(d, ids)
            n_docs += 1
            n_tok += len(ids)
        if on_batch is not None:
            on_batch(n_docs, n_tok)
    flush()
    if not shards:
        raise IndexBuildError("no documents to index")
    if len(unigram) < tok.vocab_size:
        unigram = np.concatenate([unigram, np.zeros(tok.vocab_size - len(unigram), dtype=np.int64)])
    np.save(tmp / "unigram.npy", unigram)
    tok_desc = tok.save(tmp / "tokenizer")
    tok_sum = tokenizer_checksum(tmp / "tokenizer")
    seconds = time.perf_counter() - t_start
    index_bytes = sum((tmp / s["dir"] / f).stat().st_size for s in shards for f in ("tokens.bin", "sa.bin"))
    info = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tokenizer": tok_desc,
        "tokenizer_xxh3_128": tok_sum,
        "vocab_size": tok.vocab_size,
        "documents": n_docs,
        "tokens": n_tok,
        "separators": n_docs,
        "shard_tokens": shard_tokens,
        "shards": shards,
        "corpus": corpus_desc or [],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (tmp / "index.json").write_text(json.dumps(info, indent=1))
    total_bytes = _folder_bytes(tmp)
    report = BuildReport(
        path=str(out), documents=n_docs, tokens=n_tok, separators=n_docs, shards=len(shards),
        vocab_size=tok.vocab_size, token_dtypes=sorted({s["dtype"] for s in shards}), seconds=seconds,
        tokenize_seconds=tokenize_s, sort_seconds=sort_s, write_seconds=write_s,
        tokens_per_second=n_tok / seconds if seconds > 0 else 0.0, index_bytes=index_bytes, total_bytes=total_bytes,
        index_bytes_per_token=index_bytes / max(n_tok, 1), total_bytes_per_token=total_bytes / max(n_tok, 1),
        read_stats=read_stats.to_json() if read_stats is not None else {},
        quarantined=dict(quarantine.counts) if quarantine is not None else {},
    )
    info["build"] = report.to_json()
    (tmp / "index.json").write_text(json.dumps(info, indent=1))
    return report


def _encoded_batches(docs: Iterable[Document], tok: IdTokenizer, batch_size: int, workers: int
                     ) -> Iterator[tuple[list[Document], list[np.ndarray], float]]:
    """(batch, ids per document, seconds spent waiting for the ids), in corpus order.

    The word tokenizer can run in ``workers`` processes: each tokenises a batch against a local
    vocabulary and the parent maps local ids into the global vocabulary in batch order, so the
    ids are identical to a single-process build. At most ``2 x workers`` batches are in flight
    (memory stays bounded). HF tokenizers already encode batches on all cores in Rust.
    """
    if workers <= 1 or not isinstance(tok, WordIdTokenizer):
        for batch in chunked(docs, batch_size):
            t0 = time.perf_counter()
            ids = tok.encode_batch([d.text for d in batch], grow=True)
            yield batch, ids, time.perf_counter() - t0
        return
    import multiprocessing as mp
    from collections import deque

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    from curadebt.engine.local import die_with_parent

    with ctx.Pool(workers, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        pending: deque = deque()

        def drain_one():
            batch, fut = pending.popleft()
            t0 = time.perf_counter()
            words, local, lengths = fut.get()
            ids = tok.merge_local(words, local, lengths)
            return batch, ids, time.perf_counter() - t0

        for batch in chunked(docs, batch_size):
            pending.append((batch, pool.apply_async(word_batch_local, ([d.text for d in batch], tok.lower))))
            if len(pending) >= 2 * workers:
                yield drain_one()
        while pending:
            yield drain_one()


def build_index(corpus, out: str | os.PathLike, tokenizer: str | IdTokenizer | None = "words",
                reader_config: ReaderConfig | None = None, shard_tokens: int = DEFAULT_SHARD_TOKENS,
                store_text: bool = True, overwrite: bool = False, quarantine_path: str | os.PathLike | None = None,
                workers: int = 1, on_batch: Callable[[int, int], None] | None = None) -> BuildReport:
    """Index a corpus (files/folders read by :func:`curadebt.corpus.iter_documents`).

    Bad records go to the quarantine (``quarantine_path`` as JSONL when given) and are counted in
    the report; they are never indexed silently or dropped silently.
    """
    cfg = reader_config or ReaderConfig()
    stats = ReadStats()
    quarantine = Quarantine(Path(quarantine_path) if quarantine_path else None)
    paths = corpus if isinstance(corpus, (list, tuple)) else [corpus]
    try:
        docs = iter_documents(list(paths), cfg, quarantine, stats)
        return build_index_from_documents(docs, out, tokenizer, shard_tokens=shard_tokens, store_text=store_text,
                                          overwrite=overwrite, batch_size=cfg.batch_size, workers=workers,
                                          on_batch=on_batch,
                                          read_stats=stats, quarantine=quarantine,
                                          corpus_desc=[str(p) for p in paths], inputs=expand_inputs(list(paths)))
    finally:
        quarantine.close()
