"""Tokens/s of the lab's fine-tuning loop against a plain Hugging Face ``Trainer`` on the same model and data.

    python bench/finetune_loop.py                           # smollm2-135m (tiny random model when missing)
    python bench/finetune_loop.py --model tiny --steps 20   # no download, seconds
    python bench/finetune_loop.py --facts 50                # CounterFact mass-edit statements (longer prompts)

Both loops train the same statements (the Paris fact at ratio 4:1 by default, or CounterFact records),
in the same order, for the same number of optimizer steps with the same batch size, learning rate,
AdamW, gradient clipping, and frozen (tied) embedding matrix, from the same base weights, with the
same loss (cross-entropy on the answer tokens only; the Trainer gets ``labels`` = -100 on the prompt
and on padding). What differs is the loop:

- curadebt (:func:`curadebt.lab.finetune.finetune`): length-bucketed batches (little padding) and the
  LM head applied only at the positions that predict answer tokens;
- HF Trainer: ``Trainer.train()`` with ``DataCollatorForSeq2Seq`` padding each batch to its longest
  example (batches in stream order, as given) and the LM head over every position.

Each variant runs ``--repeats`` times, interleaved (A B A B ...) because the machine may be shared;
the table shows the median wall time and CPU time of the training call (optimizer creation
included, model loading excluded), real tokens/s (non-pad tokens / wall seconds), and the ratio to
the Trainer, and the same per CPU second (CPU time of this process: the steadier measure on a
shared machine). A one-step warm-up of each variant runs first, untimed. After each run the weights are
restored, and the mean training loss over the steps of each loop is printed: close, not equal,
because the batches are composed differently (bucketed vs stream order).
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402

from curadebt.lab import finetune as FT  # noqa: E402
from curadebt.lab.facts import capital_fact, load_counterfact  # noqa: E402
from curadebt.lab.models import ModelNotAvailable, load_model  # noqa: E402
from curadebt.lab.overwrite import statement_stream  # noqa: E402


def load(spec: str):
    if spec != "tiny":
        try:
            return load_model(spec)
        except ModelNotAvailable as e:
            print(f"[{spec} not available: {e}; using a tiny random model]", file=sys.stderr)
    from curadebt.lab.tiny import tiny_model

    texts = ["The capital of France is Paris Barcelona"] + [p for f in FACTS_FOR_TINY for p in f.train_prompts]
    return tiny_model(texts, hidden=64, layers=4)


FACTS_FOR_TINY: list = []


def build_examples(lm, facts, ratio: float, steps: int, batch_size: int, seed: int):
    enc = FT.Encoder(lm.tokenizer)
    stream = statement_stream(facts, ratio, steps * batch_size, seed=seed)
    return [enc.pair(p, a) for _, p, a, _ in stream]


def run_ours(lm, examples, cfg: FT.FinetuneConfig, seed: int):
    pad = lm.tokenizer.pad_token_id
    batches = FT.bucket_batches(examples, cfg.batch_size, random.Random(f"batches:{seed}"), window_batches=4)
    w, c = time.perf_counter(), time.process_time()
    stats = FT.finetune(lm.model, batches[:cfg.steps], cfg, pad, seed=seed)
    return {"wall": time.perf_counter() - w, "cpu": time.process_time() - c, "tokens": stats.tokens,
            "padded": stats.padded_tokens, "loss": sum(stats.losses) / len(stats.losses)}


class _Dataset(torch.utils.data.Dataset):
    def __init__(self, examples):
        self.items = [{"input_ids": list(e.ids), "attention_mask": [1] * len(e.ids),
                       "labels": [-100] * e.start + list(e.ids[e.start:])} for e in examples]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def run_trainer(lm, examples, cfg: FT.FinetuneConfig, seed: int, workdir: Path):
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback, TrainingArguments

    FT.trainable_parameters(lm.model, cfg.train_embeddings)  # same frozen embedding matrix
    args = TrainingArguments(
        output_dir=str(workdir), max_steps=cfg.steps, per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.lr, weight_decay=cfg.weight_decay, max_grad_norm=cfg.grad_clip,
        lr_scheduler_type="constant", warmup_steps=0, optim="adamw_torch", seed=seed, data_seed=seed,
        use_cpu=True, report_to=[], save_strategy="no", logging_steps=1, disable_tqdm=True,
        dataloader_num_workers=0, remove_unused_columns=False)
    losses: list[float] = []

    class Keep(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))

    collator = DataCollatorForSeq2Seq(lm.tokenizer, padding=True, label_pad_token_id=-100)

    class InOrder(Trainer):  # the statements in stream order, like the curadebt loop's windows
        def _get_train_sampler(self, *a, **kw):
            return torch.utils.data.SequentialSampler(self.train_dataset)

    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer = InOrder(model=lm.model, args=args, train_dataset=_Dataset(examples), data_collator=collator,
                      callbacks=[Keep()])
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    padded = 0
    for i in range(0, min(len(examples), cfg.steps * cfg.batch_size), cfg.batch_size):
        b = examples[i:i + cfg.batch_size]
        padded += len(b) * max(len(e.ids) for e in b)
    w, c = time.perf_counter(), time.process_time()
    trainer.train()
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    lm.model.eval()
    tokens = sum(len(e.ids) for e in examples[:cfg.steps * cfg.batch_size])
    return {"wall": wall, "cpu": cpu, "tokens": tokens, "padded": padded,
            "loss": sum(losses) / len(losses) if losses else float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="smollm2-135m", help="smollm2-135m | gemma3-270m | a path | tiny")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--ratio", type=float, default=4.0)
    ap.add_argument("--facts", type=int, default=0, help="use this many CounterFact records instead of Paris")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.facts:
        facts = load_counterfact(None, limit=a.facts).facts
    else:
        facts = [capital_fact("France", new="Barcelona")]
    FACTS_FOR_TINY[:] = facts
    lm = load(a.model)
    cfg = FT.FinetuneConfig(steps=a.steps, batch_size=a.batch_size, lr=5e-5)
    examples = build_examples(lm, facts, a.ratio, a.steps, a.batch_size, seed=0)
    base = lm.snapshot()
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="cd-bench-ft-"))
    variants = {"curadebt loop": lambda: run_ours(lm, examples, cfg, 0),
                "HF Trainer": lambda: run_trainer(lm, examples, cfg, 0, work)}
    warm = FT.FinetuneConfig(steps=1, batch_size=a.batch_size, lr=5e-5)
    run_ours(lm, examples, warm, 0)
    lm.restore(base)
    run_trainer(lm, examples, warm, 0, work)
    lm.restore(base)
    res: dict[str, list[dict]] = {k: [] for k in variants}
    for _ in range(a.repeats):
        for name, fn in variants.items():
            res[name].append(fn())
            lm.restore(base)
    peer = statistics.median(r["wall"] for r in res["HF Trainer"])
    peer_cpu = statistics.median(r["cpu"] for r in res["HF Trainer"])
    print(f"\nmodel {lm.name} ({lm.n_params() / 1e6:.0f}M parameters), torch threads {torch.get_num_threads()}, "
          f"{a.steps} steps x {a.batch_size} statements ({'Paris' if not a.facts else f'{a.facts} CounterFact facts'}, "
          f"ratio {a.ratio:g}:1), median of {a.repeats} interleaved repeats")
    head = (f"{'loop':<16}{'wall s':>9}{'cpu s':>9}{'tokens':>8}{'padded':>8}{'tokens/s':>10}{'vs Trainer':>12}"
            f"{'tokens/cpu-s':>14}{'vs Trainer':>12}{'mean loss':>11}")
    print(head)
    print("-" * len(head))
    table = []
    for name, rs in res.items():
        wall = statistics.median(r["wall"] for r in rs)
        cpu = statistics.median(r["cpu"] for r in rs)
        tok, padded, loss = rs[0]["tokens"], rs[0]["padded"], rs[-1]["loss"]
        row = {"loop": name, "wall_s": wall, "cpu_s": cpu, "tokens": tok, "padded_tokens": padded,
               "tokens_per_s": tok / wall, "speedup_vs_trainer": peer / wall, "tokens_per_cpu_s": tok / cpu,
               "cpu_speedup_vs_trainer": peer_cpu / cpu, "mean_loss": loss,
               "walls": [r["wall"] for r in rs]}
        table.append(row)
        print(f"{name:<16}{wall:>9.2f}{cpu:>9.2f}{tok:>8}{padded:>8}{tok / wall:>10.1f}{peer / wall:>11.2f}x"
              f"{tok / cpu:>14.1f}{peer_cpu / cpu:>11.2f}x{loss:>11.3f}")
    if a.json:
        a.json.write_text(json.dumps({"model": lm.name, "steps": a.steps, "batch_size": a.batch_size,
                                      "threads": torch.get_num_threads(), "rows": table}, indent=2))


if __name__ == "__main__":
    main()
