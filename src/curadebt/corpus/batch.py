"""The batch that carries documents through every pass, with the text features its measures share
(tokens, word spans and hashes, entities), each computed once per batch."""
from __future__ import annotations

from functools import cached_property
from typing import Callable, Iterable, Iterator, Sequence

from curadebt.core.document import Document


class Batch:
    """A run of consecutive documents. Token lists are computed once and shared by all measures."""

    def __init__(self, docs: Sequence[Document], tokenizer: Callable[[str], list[str]] | None = None,
                 entity_extractor: Callable[[str], list[str]] | None = None):
        self.docs = list(docs)
        self._tokenizer = tokenizer
        self._entity_extractor = entity_extractor

    def __len__(self) -> int:
        return len(self.docs)

    def __getstate__(self) -> dict:
        """Pickled without what it can compute again (token lists, entities, word spans)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("tokens", "entities", "words", "token_spans")}

    def __iter__(self):
        return iter(self.docs)

    @property
    def first_ordinal(self) -> int:
        return self.docs[0].ordinal if self.docs else 0

    @cached_property
    def tokens(self) -> list[list[str]]:
        if self._tokenizer is None:
            from curadebt.text.tokenize import word_tokenize

            tok = word_tokenize
        else:
            tok = self._tokenizer
        batch = getattr(tok, "batch", None)  # a tokenizer that encodes whole batches (Hugging Face)
        if batch is not None:
            return batch([d.text for d in self.docs])
        return [tok(d.text) for d in self.docs]

    @cached_property
    def words(self):
        """The default word tokens of every document as byte spans with their XXH3-64 hashes
        (:class:`curadebt.text.wordhash.WordSpans`), whatever tokenizer the batch has: computed once
        and shared by the measures that count words without a Python object per token."""
        from curadebt.text.wordhash import word_spans_hashed

        return word_spans_hashed([d.text for d in self.docs])

    @cached_property
    def token_spans(self):
        """The batch's tokens (whatever the tokenizer) as :class:`curadebt.text.wordhash.WordSpans`:
        :attr:`words` for the default word tokens, else the tokenizer's tokens joined by spaces."""
        if self.uses_word_tokens:
            return self.words
        from curadebt.text.wordhash import token_spans_hashed

        return token_spans_hashed(self.tokens)

    @property
    def token_counts(self) -> list[int]:
        """Tokens per document under the batch's tokenizer (``len`` of each of ``tokens``); for the
        default word tokenizer read off :attr:`words` unless the token lists exist already."""
        if "tokens" not in self.__dict__ and self.uses_word_tokens:
            offsets = self.words.offsets
            return (offsets[1:] - offsets[:-1]).tolist()
        return [len(t) for t in self.tokens]

    @property
    def uses_word_tokens(self) -> bool:
        """The batch's tokenizer is the default word tokenizer (so ``tokens`` are the tokens of
        :attr:`words`)."""
        if self._tokenizer is None:
            return True
        from curadebt.text.tokenize import word_tokenize

        return self._tokenizer is word_tokenize

    @cached_property
    def entities(self) -> list[list[str]]:
        """Entity mentions per document (default extractor: capitalised multi-word spans)."""
        if self._entity_extractor is None:
            from curadebt.text.entities import capitalised_spans

            ext = capitalised_spans
        else:
            ext = self._entity_extractor
        batch = getattr(ext, "batch", None)  # an extractor that works on whole batches (spaCy)
        if batch is not None:
            return batch([d.text for d in self.docs])
        return [ext(d.text) for d in self.docs]


def chunked(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    """Lists of ``size`` consecutive documents (the last may be shorter)."""
    buf: list[Document] = []
    for d in docs:
        buf.append(d)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def batches_of(docs: Iterable[Document], size: int, tokenizer: Callable[[str], list[str]] | None = None,
               entity_extractor: Callable[[str], list[str]] | None = None) -> Iterator[Batch]:
    """Batches of ``size`` consecutive documents."""
    for chunk in chunked(docs, size):
        yield Batch(chunk, tokenizer, entity_extractor)
