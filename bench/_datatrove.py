"""datatrove's pipelines tokenised with curadebt's word tokenizer, so every system sees the same words."""
from __future__ import annotations

from curadebt.text.tokenize import word_tokenize


def same_word_tokenizer():
    """A datatrove ``WordTokenizer`` that splits with :func:`curadebt.text.tokenize.word_tokenize`
    (one sentence and one span per document). Imports datatrove, so call it only in its bench."""
    from datatrove.utils.word_tokenizers import WordTokenizer

    class Words(WordTokenizer):
        def word_tokenize(self, text):
            return word_tokenize(text)

        def sent_tokenize(self, text):
            return [text]

        def span_tokenize(self, text):
            return [(0, len(text))]

    return Words()
