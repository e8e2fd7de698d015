"""Text from a local model, for tracing what it generates (``curadebt trace --model``)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Generation:
    model: str
    prompt: str
    output: str           # the continuation only
    sample: bool
    seed: int
    max_new_tokens: int

    def to_json(self) -> dict:
        return {"model": self.model, "prompt": self.prompt, "output": self.output, "sample": self.sample,
                "seed": self.seed, "max_new_tokens": self.max_new_tokens}


def generate(lm, prompt: str, max_new_tokens: int = 48, sample: bool = False, seed: int = 0,
             temperature: float = 0.8, top_p: float = 0.95) -> Generation:
    """The model's continuation of ``prompt``: greedy, or sampled with ``seed`` (same seed, same text
    on the same machine)."""
    import torch

    tok, model = lm.tokenizer, lm.model
    enc = tok(prompt, return_tensors="pt")
    torch.manual_seed(seed)
    kw = {"do_sample": True, "temperature": temperature, "top_p": top_p} if sample else {"do_sample": False}
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=tok.pad_token_id or tok.eos_token_id,
                             **kw)
    text = tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return Generation(model=lm.name, prompt=prompt, output=text, sample=sample, seed=seed,
                      max_new_tokens=max_new_tokens)
