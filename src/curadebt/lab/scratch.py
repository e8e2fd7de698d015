"""Tiny GPT-style models trained from scratch on CPU: BPE tokenizer, packing, training loop, scoring.

Read in one sitting (after nanoGPT):

- :func:`train_tokenizer` trains a byte-level BPE (``tokenizers``) on the corpus; ``[PAD]`` is id 0
  and ``[EOS]`` id 1 (it also starts every row and every prompt).
- :func:`pack` puts whole documents into rows of ``ctx`` tokens in corpus order (a document never
  straddles two rows, so a statement is seen whole or not at all); the rest of a row is padding, which
  the loss ignores. ``Packed.row_of_doc`` maps each document to its row, so the exact training step at
  which each document is seen is known.
- :func:`train` runs AdamW over rows in order (no shuffling: the corpus order *is* the training order),
  linear warm-up then a constant learning rate (so a checkpoint half way is a model trained on half the
  data, not a model in the middle of a decay), gradient clipping, optional checkpoints.
- :func:`score` is the summed log-probability of an answer after a prompt (the sequence probability).

Model sizes: ``SIZES`` (GPT-2 blocks; ``xxs`` about 0.04M, ``xs`` about 0.1M, ``s`` about 0.2M, ``m`` about
1M parameters with a 2000-token vocabulary; without the embeddings 6.6k, 25k, 100k and 800k).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
from curadebt.core.config import setting
from curadebt.training.loop import LoopStats, adamw, train_loop
from curadebt.training.schedules import lr_schedule
from curadebt.core.errors import EXIT_USAGE, CuradebtError

PAD, EOS = 0, 1
SPECIALS = ["[PAD]", "[EOS]"]
SIZES: dict[str, dict[str, int]] = {
    "xxs": {"n_embd": 16, "n_layer": 2, "n_head": 2},
    "xs": {"n_embd": 32, "n_layer": 2, "n_head": 2},
    "s": {"n_embd": 64, "n_layer": 2, "n_head": 4},
    "m": {"n_embd": 128, "n_layer": 4, "n_head": 4},
}


class ScratchError(CuradebtError, ValueError):
    """Bad input to the from-scratch lab (documents too long, unknown size, ...)."""

    exit_code = EXIT_USAGE


@dataclass
class TrainConfig:
    """A tiny GPT trained from scratch: its size and how it is trained."""

    size: str = setting("s", help="Model size: xxs (~0.04M), xs (~0.1M), s (~0.2M) or m (~1M parameters).")
    ctx: int = setting(64, help="Context length (tokens per row).")
    batch_size: int = setting(32, help="Rows per optimizer step.")
    lr: float = setting(3e-3, help="AdamW learning rate of pretraining (after warm-up).")
    warmup: int = setting(20, help="Linear warm-up steps.")
    weight_decay: float = setting(0.01, help="AdamW weight decay.")
    clip: float = setting(1.0, help="Gradient-norm clip (0: none).")
    vocab_size: int = setting(2000, help="BPE vocabulary trained on each world.")

    def validate(self) -> "TrainConfig":
        if self.size not in SIZES:
            raise ScratchError(f"unknown model size {self.size!r}; choose from {sorted(SIZES)}")
        if self.ctx < 8 or self.batch_size < 1 or self.lr <= 0 or self.vocab_size < 300:
            raise ScratchError("need ctx >= 8, batch_size >= 1, lr > 0, vocab_size >= 300")
        return self


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2000):
    """A byte-level BPE ``tokenizers.Tokenizer`` trained on ``texts`` ([PAD]=0, [EOS]=1)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(texts), trainer=trainer)
    return tok


def encode(tok, texts: Sequence[str]) -> list[list[int]]:
    return [e.ids for e in tok.encode_batch(list(texts), add_special_tokens=False)]


@dataclass
class Packed:
    rows: np.ndarray                 # [R, ctx] int64, PAD-padded, each row starts with EOS
    row_of_doc: np.ndarray           # [n_docs] row index of each document
    ctx: int

    @property
    def n_rows(self) -> int:
        return int(self.rows.shape[0])

    def tokens(self) -> int:
        """Non-padding tokens (what the loss sees)."""
        return int((self.rows != PAD).sum())


def pack(token_lists: Sequence[Sequence[int]], ctx: int) -> Packed:
    """Greedy in-order packing of whole documents (each followed by EOS) into rows that start with EOS."""
    rows: list[list[int]] = []
    row_of_doc = np.zeros(len(token_lists), dtype=np.int64)
    cur: list[int] = [EOS]
    for i, ids in enumerate(token_lists):
        need = len(ids) + 1
        if need + 1 > ctx:
            raise ScratchError(f"document {i} has {len(ids)} tokens; rows hold {ctx - 2} (raise ctx)")
        if len(cur) + need > ctx:
            rows.append(cur)
            cur = [EOS]
        row_of_doc[i] = len(rows)
        cur.extend(ids)
        cur.append(EOS)
    if len(cur) > 1:
        rows.append(cur)
    arr = np.full((len(rows), ctx), PAD, dtype=np.int64)
    for r, ids in enumerate(rows):
        arr[r, :len(ids)] = ids
    return Packed(arr, row_of_doc, ctx)


class ScratchLM:
    """A tokenizer plus a ``GPT2LMHeadModel`` built from scratch."""

    def __init__(self, tok, cfg: TrainConfig, seed: int = 0, model=None):
        import torch
        from transformers import GPT2Config, GPT2LMHeadModel
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        self.tok, self.cfg, self.seed = tok, cfg.validate(), seed
        if model is None:
            torch.manual_seed(seed)
            gcfg = GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=cfg.ctx, bos_token_id=EOS,
                              eos_token_id=EOS, pad_token_id=PAD, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                              **SIZES[cfg.size])
            model = GPT2LMHeadModel(gcfg)
        self.model = model

    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def n_nonembedding_params(self) -> int:
        """N in the 6ND compute estimate (embeddings excluded, as in Kaplan et al.)."""
        emb = self.model.transformer.wte.weight.numel() + self.model.transformer.wpe.weight.numel()
        return self.n_params() - emb

    def save(self, path: str | Path) -> Path:
        import torch

        from curadebt.lab.io import atomic_write

        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        atomic_write(p / "tokenizer.json", self.tok.to_str())
        atomic_write(p / "train_config.json", json.dumps({"seed": self.seed, **asdict(self.cfg)}) + "\n")
        self.model.config.to_json_file(str(p / "config.json"))
        tmp = p / ".model.pt.tmp"
        torch.save(self.model.state_dict(), tmp)
        tmp.replace(p / "model.pt")
        return p

    @classmethod
    def load(cls, path: str | Path) -> "ScratchLM":
        import torch
        from tokenizers import Tokenizer
        from transformers import GPT2Config, GPT2LMHeadModel

        p = Path(path)
        if not (p / "model.pt").exists():
            raise ScratchError(f"no checkpoint in {p} (model.pt missing)")
        tok = Tokenizer.from_str((p / "tokenizer.json").read_text(encoding="utf-8"))
        meta = json.loads((p / "train_config.json").read_text(encoding="utf-8"))
        seed = meta.pop("seed")
        model = GPT2LMHeadModel(GPT2Config.from_json_file(str(p / "config.json")))
        model.load_state_dict(torch.load(p / "model.pt", weights_only=True))
        return cls(tok, TrainConfig(**meta), seed=seed, model=model)

    def clone(self) -> "ScratchLM":
        import copy

        return ScratchLM(self.tok, self.cfg, self.seed, model=copy.deepcopy(self.model))


@dataclass
class TrainLog(LoopStats):
    tokens: int = 0                      # non-padding tokens trained on
    row_tokens: int = 0                  # rows x ctx (what the forward pass costs)


def make_optimizer(lm: ScratchLM, lr: float, weight_decay: float = 0.01):
    return adamw(lm.model.parameters(), lr=lr, weight_decay=weight_decay, betas=(0.9, 0.95))


def _lm_loss(lm: ScratchLM, batch: np.ndarray):
    """The causal-LM loss of a [B, T] batch of PAD-padded rows (padding is not predicted)."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(batch))
    labels = x.clone()
    labels[labels == PAD] = -100
    lm.model.train()  # a checkpoint callback may have scored in eval mode
    return lm.model(input_ids=x, labels=labels).loss


def train(lm: ScratchLM, rows: np.ndarray, steps: int | None = None, *, opt=None, log: TrainLog | None = None,
          checkpoints: Sequence[int] = (), on_checkpoint: Callable[[int, ScratchLM], None] | None = None,
          progress: Callable[[int, int, float], None] | None = None, from_first_row: bool = False,
          schedule: str = "constant") -> TrainLog:
    """Train on ``rows`` in order, ``batch_size`` rows a step, cycling when ``steps`` exceeds one epoch
    (linear warm-up over ``warmup`` steps, then a constant rate; :func:`curadebt.training.loop.train_loop`).

    ``checkpoints``: step numbers (counted over the whole run, ``log.steps``) after which
    ``on_checkpoint(step, lm)`` is called. A continued ``log`` keeps the schedule (no second
    warm-up) and, unless ``from_first_row`` (a new phase of other rows), the place in the cycle.
    ``schedule``: ``constant`` (the default), ``cosine`` or ``wsd`` over these ``steps``
    (:mod:`curadebt.training.schedules`)."""
    cfg = lm.cfg
    log = log or TrainLog()
    opt = opt or make_optimizer(lm, cfg.lr, cfg.weight_decay)
    n = rows.shape[0]
    if n == 0:
        raise ScratchError("no rows to train on")
    per_epoch = math.ceil(n / cfg.batch_size)
    steps = per_epoch if steps is None else int(steps)
    marks = set(int(c) for c in checkpoints)
    first = 0 if from_first_row else log.steps
    batches = (rows[(k % per_epoch) * cfg.batch_size:(k % per_epoch + 1) * cfg.batch_size]
               for k in range(first, first + steps))

    def after_step(k: int, loss: float, batch: np.ndarray) -> None:
        log.tokens += int((batch != PAD).sum())
        log.row_tokens += int(batch.size)
        if progress:
            progress(k, steps, loss)
        if on_checkpoint and k in marks:
            on_checkpoint(k, lm)

    train_loop(batches, lambda b: _lm_loss(lm, b), opt, clip=cfg.clip, clip_params=list(lm.model.parameters()),
               lr_at=lr_schedule(schedule, cfg.lr, cfg.warmup, log.steps + steps), after_step=after_step, stats=log)
    return log


def fit(lm: ScratchLM, opt, batches: Iterable[np.ndarray], lr: float, clip: float) -> TrainLog:
    """Steps at a constant rate over ``batches`` (counter-examples, fixes), with an optimizer the
    caller keeps; returns their log (steps, tokens, losses)."""
    log = TrainLog()

    def count(k: int, loss: float, batch: np.ndarray) -> None:
        log.tokens += int((batch != PAD).sum())
        log.row_tokens += int(batch.size)

    train_loop(batches, lambda b: _lm_loss(lm, b), opt, clip=clip, clip_params=list(lm.model.parameters()),
               lr_at=lambda k: lr, after_step=count, stats=log)
    return log


def steps_per_epoch(rows: np.ndarray, batch_size: int) -> int:
    return math.ceil(rows.shape[0] / batch_size)


def score(lm: ScratchLM, prompts: Sequence[str], answers: Sequence[str], batch: int = 256) -> np.ndarray:
    """log P(answer | EOS + prompt), summed over the answer's tokens; the answer gets a leading space."""
    import torch

    if len(prompts) != len(answers):
        raise ScratchError("prompts and answers differ in length")
    p_ids = encode(lm.tok, prompts)
    a_ids = encode(lm.tok, [" " + a for a in answers])
    out = np.zeros(len(prompts), dtype=np.float64)
    lm.model.eval()
    ctx = lm.cfg.ctx
    with torch.no_grad():
        for s in range(0, len(prompts), batch):
            seqs = [[EOS] + p + a for p, a in zip(p_ids[s:s + batch], a_ids[s:s + batch])]
            if max(len(q) for q in seqs) > ctx:
                raise ScratchError(f"a prompt plus answer is longer than ctx={ctx}")
            L = max(len(q) for q in seqs)
            x = torch.full((len(seqs), L), PAD, dtype=torch.long)
            for r, q in enumerate(seqs):
                x[r, :len(q)] = torch.tensor(q)
            logp = torch.log_softmax(lm.model(input_ids=x).logits.float(), dim=-1)
            for r, (p, a) in enumerate(zip(p_ids[s:s + batch], a_ids[s:s + batch])):
                start = 1 + len(p)
                pos = torch.arange(start - 1, start - 1 + len(a))
                out[s + r] = float(logp[r, pos, torch.tensor(a)].sum())
    return out


def mean_nll(lm: ScratchLM, rows: np.ndarray, batch: int = 64) -> float:
    """Mean next-token NLL per non-padding token over ``rows`` (held-out loss)."""
    import torch

    lm.model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for s in range(0, rows.shape[0], batch):
            x = torch.from_numpy(np.ascontiguousarray(rows[s:s + batch]))
            labels = x.clone()
            labels[labels == PAD] = -100
            n = int((labels[:, 1:] != -100).sum())
            total += float(lm.model(input_ids=x, labels=labels).loss) * n
            count += n
    return total / count if count else float("nan")


def flops(n_params: int, tokens: int) -> float:
    """Training compute 6 N D."""
    return 6.0 * n_params * tokens


def set_threads(threads: int | None) -> None:
    import torch

    if threads:
        torch.set_num_threads(int(threads))
