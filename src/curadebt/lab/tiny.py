"""A tiny randomly initialised causal LM with a word-level tokenizer (no download): tests and benches."""
from __future__ import annotations

import re
from typing import Iterable

from curadebt.lab.models import LoadedModel, ModelSpec, prepare_tokenizer

SPECIALS = ["[PAD]", "[UNK]", "[BOS]", "[EOS]"]
_WORD = re.compile(r"\w+|[^\w\s]")


def tiny_tokenizer(texts: Iterable[str]):
    """A word-level ``PreTrainedTokenizerFast`` whose vocabulary is every word/punctuation in ``texts``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for text in texts:
        for w in _WORD.findall(text):
            vocab.setdefault(w, len(vocab))
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]",
                                  bos_token="[BOS]", eos_token="[EOS]")
    return prepare_tokenizer(tok)


def tiny_model(texts: Iterable[str], *, arch: str = "llama", hidden: int = 32, layers: int = 2, seed: int = 0,
               tie: bool = True) -> LoadedModel:
    """A tiny random model (``llama`` or ``gpt2``) with a word-level tokenizer over ``texts``."""
    import torch
    from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig

    tok = tiny_tokenizer(texts)
    v = len(tok)
    torch.manual_seed(seed)
    if arch == "llama":
        cfg = LlamaConfig(vocab_size=v, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                          num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                          tie_word_embeddings=tie, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                          eos_token_id=tok.eos_token_id)
    elif arch == "gpt2":
        cfg = GPT2Config(vocab_size=v, n_embd=hidden, n_layer=layers, n_head=2, n_positions=256, resid_pdrop=0.0,
                         embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=tie, pad_token_id=tok.pad_token_id,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    else:
        raise ValueError(f"unknown arch {arch!r}")
    model = AutoModelForCausalLM.from_config(cfg)
    model.eval()
    return LoadedModel(model=model, tokenizer=tok,
                       spec=ModelSpec(f"tiny-{arch}", "tiny", "memory", None, f"random tiny {arch}"))
