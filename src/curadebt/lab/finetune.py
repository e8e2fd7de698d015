"""A small fine-tuning loop for fact statements: loss on the answer span, length-bucketed batches.

Readable in one sitting (nanoGPT spirit):

- :func:`encode_pair` turns ``(prompt, answer)`` into token ids ``prompt_ids + answer_ids`` with the
  answer encoded as ``" " + answer`` without special tokens (as ROME does), and remembers where the
  answer starts. Training and scoring use the very same encoding.
- :func:`bucket_batches` cuts a stream of examples into batches of similar length (sorted inside
  windows of a few batches, windows kept in stream order, batches shuffled inside a window), so
  there is almost no padding, and the stream's new:old mix survives at window granularity.
- :func:`span_logits` runs the transformer body once and applies the LM head *only at the
  positions that predict answer tokens*: with Gemma's 262k vocabulary the head over every
  position costs more than the body.
- :func:`finetune` is AdamW at a constant learning rate with gradient clipping; by default the
  (tied) embedding matrix is frozen, everything else trains.
- :func:`score_pairs` returns the summed log-probability and token count of each answer.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F

from curadebt.training.loop import LoopStats, adamw, train_loop


@dataclass(frozen=True)
class Encoded:
    ids: tuple[int, ...]
    start: int          # ids[start:] are the targets (the answer span); start >= 1

    @property
    def n_targets(self) -> int:
        return len(self.ids) - self.start


class Encoder:
    """Caches the token ids of (prompt, answer) pairs for one tokenizer."""

    def __init__(self, tokenizer):
        self.tok = tokenizer
        self._cache: dict[tuple[str, str], Encoded] = {}
        probe = tokenizer("a").input_ids
        self.bos = tokenizer.bos_token_id if (tokenizer.bos_token_id is not None and probe
                                              and probe[0] == tokenizer.bos_token_id) else None

    def prompt_ids(self, prompt: str) -> list[int]:
        ids = list(self.tok(prompt).input_ids)
        eos = self.tok.eos_token_id
        if ids and eos is not None and ids[-1] == eos and eos != self.bos and len(ids) > 1:
            ids = ids[:-1]  # tokenizers that append EOS: the answer follows the prompt directly
        return ids

    def pair(self, prompt: str, answer: str) -> Encoded:
        key = (prompt, answer)
        e = self._cache.get(key)
        if e is None:
            p = self.prompt_ids(prompt)
            a = list(self.tok(" " + answer.strip(), add_special_tokens=False).input_ids)
            if not p:
                p = [self.bos if self.bos is not None else (self.tok.eos_token_id or 0)]
            if not a:
                raise ValueError(f"answer {answer!r} encodes to no tokens")
            e = Encoded(tuple(p + a), len(p))
            self._cache[key] = e
        return e

    def text_chunks(self, text: str, chunk_tokens: int, max_chunks: int | None = None,
                    spread: bool = True) -> list[Encoded]:
        """Plain-text chunks for perplexity / replay; every token after the first is a target."""
        ids = list(self.tok(text, add_special_tokens=False).input_ids)
        body = chunk_tokens - (1 if self.bos is not None else 0)
        chunks = [ids[i:i + body] for i in range(0, len(ids) - body + 1, body)]
        if max_chunks is not None and len(chunks) > max_chunks:
            if spread:  # evenly spaced over the text
                step = len(chunks) / max_chunks
                chunks = [chunks[int(i * step)] for i in range(max_chunks)]
            else:
                chunks = chunks[:max_chunks]
        pre = [self.bos] if self.bos is not None else []
        return [Encoded(tuple(pre + c), 1) for c in chunks if len(pre + c) >= 2]


def encode_pair(tokenizer, prompt: str, answer: str) -> Encoded:
    return Encoder(tokenizer).pair(prompt, answer)


# ---------------------------------------------------------------------------- batching


def bucket_batches(examples: Sequence[Encoded], batch_size: int, rng: random.Random | None = None,
                   window_batches: int = 8) -> list[list[Encoded]]:
    """Length-bucketed batches, preserving the stream order at the granularity of windows."""
    out: list[list[Encoded]] = []
    w = max(1, window_batches) * batch_size
    for i in range(0, len(examples), w):
        win = sorted(examples[i:i + w], key=lambda e: len(e.ids))
        bs = [win[j:j + batch_size] for j in range(0, len(win), batch_size)]
        if rng is not None:
            rng.shuffle(bs)
        out.extend(bs)
    return out


def collate(batch: Sequence[Encoded], pad_id: int):
    L = max(len(e.ids) for e in batch)
    ids = torch.full((len(batch), L), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), L), dtype=torch.long)
    rows, cols, tgts = [], [], []
    for i, e in enumerate(batch):
        n = len(e.ids)
        ids[i, :n] = torch.tensor(e.ids, dtype=torch.long)
        mask[i, :n] = 1
        for j in range(e.start, n):
            rows.append(i)
            cols.append(j - 1)      # the position that predicts token j
            tgts.append(e.ids[j])
    return ids, mask, torch.tensor(rows), torch.tensor(cols), torch.tensor(tgts)


# ---------------------------------------------------------------------------- model pieces


def _body(model):
    body = getattr(model, getattr(model, "base_model_prefix", "model"), None)
    return body if body is not None else model.base_model


def span_logits(model, batch: Sequence[Encoded], pad_id: int):
    """(logits at the answer positions (N, vocab), targets (N,), per-example target counts)."""
    ids, mask, rows, cols, tgts = collate(batch, pad_id)
    dev = next(model.parameters()).device
    h = _body(model)(input_ids=ids.to(dev), attention_mask=mask.to(dev)).last_hidden_state
    logits = model.get_output_embeddings()(h[rows.to(dev), cols.to(dev)])
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits.float(), tgts.to(dev), [e.n_targets for e in batch]


def trainable_parameters(model, train_embeddings: bool = False) -> list[torch.nn.Parameter]:
    emb = model.get_input_embeddings().weight
    out_emb = model.get_output_embeddings()
    out_w = out_emb.weight if out_emb is not None else None
    params = []
    for p in model.parameters():
        frozen = not train_embeddings and (p is emb or (p is out_w and out_w is emb))
        p.requires_grad_(not frozen)
        if not frozen:
            params.append(p)
    return params


# ---------------------------------------------------------------------------- training

@dataclass
class FinetuneConfig:
    """One fine-tuning run: steps of ``batch_size`` statements at a constant AdamW rate."""

    steps: int = 20
    batch_size: int = 8
    lr: float = 5e-5
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    train_embeddings: bool = False
    replay_weight: float = 1.0


@dataclass
class TrainStats(LoopStats):
    examples: int = 0
    tokens: int = 0            # real (non-pad) tokens through the model, statements + replay
    padded_tokens: int = 0     # tokens including padding
    target_tokens: int = 0     # answer tokens the loss was taken on
    seconds: float = 0.0
    first_loss: float = float("nan")
    last_loss: float = float("nan")

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else float("nan")

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("losses")
        d["tokens_per_s"] = self.tokens_per_s
        d["padding_share"] = 1 - self.tokens / self.padded_tokens if self.padded_tokens else 0.0
        return d


def finetune(model, batches: Sequence[Sequence[Encoded]], cfg: FinetuneConfig, pad_id: int,
             replay: Sequence[Sequence[Encoded]] | None = None, seed: int = 0,
             after_step: Callable[[int], None] | None = None) -> TrainStats:
    """Train on ``batches`` (one optimizer step each, :func:`curadebt.training.loop.train_loop`);
    ``replay[i]`` (optional) is added to step i with weight ``replay_weight``; ``after_step(k)``
    runs after step k (1-based) in train mode: a checkpoint evaluation switches to eval and back."""
    torch.manual_seed(seed)
    params = trainable_parameters(model, cfg.train_embeddings)
    opt = adamw(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    stats = TrainStats()

    def loss_of(step_batch: tuple[int, Sequence[Encoded]]):
        step, batch = step_batch
        logits, tgts, _ = span_logits(model, batch, pad_id)
        loss = F.cross_entropy(logits, tgts)
        stats.tokens += sum(len(e.ids) for e in batch)
        stats.padded_tokens += len(batch) * max(len(e.ids) for e in batch)
        stats.target_tokens += int(tgts.numel())
        stats.examples += len(batch)
        if replay is not None and step < len(replay) and replay[step]:
            rb = replay[step]
            rl, rt, _ = span_logits(model, rb, pad_id)
            loss = loss + cfg.replay_weight * F.cross_entropy(rl, rt)
            stats.tokens += sum(len(e.ids) for e in rb)
            stats.padded_tokens += len(rb) * max(len(e.ids) for e in rb)
        return loss

    model.train()
    t0 = time.perf_counter()
    train_loop(enumerate(batches), loss_of, opt, clip=cfg.grad_clip if cfg.grad_clip and cfg.grad_clip > 0 else 0.0,
               clip_params=params, stats=stats,
               after_step=None if after_step is None else (lambda k, loss, item: after_step(k)))
    stats.seconds = time.perf_counter() - t0
    model.eval()
    opt.zero_grad(set_to_none=True)
    del opt
    for p in model.parameters():
        p.grad = None
    if stats.losses:
        stats.first_loss, stats.last_loss = stats.losses[0], stats.losses[-1]
    return stats


# ---------------------------------------------------------------------------- scoring


@torch.no_grad()
def score_encoded(model, examples: Sequence[Encoded], pad_id: int, batch_size: int = 32,
                  max_tokens: int = 4096, on_batch: Callable[[int], None] | None = None) -> list[tuple[float, int]]:
    """(summed log-prob of the targets, number of targets) per example, in input order;
    ``on_batch(n)`` after each batch of n examples (a progress bar)."""
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].ids))
    out: list[tuple[float, int] | None] = [None] * len(examples)
    i = 0
    while i < len(order):
        L = len(examples[order[min(i + batch_size, len(order)) - 1]].ids)
        n = max(1, min(batch_size, max_tokens // max(L, 1)))
        idx = order[i:i + n]
        logits, tgts, counts = span_logits(model, [examples[j] for j in idx], pad_id)
        lp = torch.log_softmax(logits, dim=-1).gather(1, tgts[:, None])[:, 0]
        k = 0
        for j, c in zip(idx, counts):
            out[j] = (float(lp[k:k + c].sum()), c)
            k += c
        i += n
        if on_batch is not None:
            on_batch(len(idx))
    return out  # type: ignore[return-value]


def score_pairs(model, encoder: Encoder, pairs: Iterable[tuple[str, str]], pad_id: int,
                batch_size: int = 32, on_batch: Callable[[int], None] | None = None) -> list[tuple[float, int]]:
    return score_encoded(model, [encoder.pair(p, a) for p, a in pairs], pad_id, batch_size, on_batch=on_batch)


def heldout_nll(model, chunks: Sequence[Encoded], pad_id: int, batch_size: int = 8) -> tuple[float, int]:
    """(total NLL, tokens) of plain-text chunks: perplexity = exp(total / tokens)."""
    scores = score_encoded(model, chunks, pad_id, batch_size)
    return -sum(s for s, _ in scores), sum(n for _, n in scores)


def ppl(total_nll: float, tokens: int) -> float:
    return math.exp(total_nll / tokens) if tokens else float("nan")
