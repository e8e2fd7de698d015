"""What to read: from the user's inputs (files, folders, quoted globs, data in memory) to an ordered
list of sources, each with its format, plus what was skipped and why.

- A file is read by its extension (:func:`curadebt.corpus.formats.format_of`); an unknown extension
  is an error naming the supported ones, unless ``format`` (``--input-format``) forces one.
- A folder is walked in sorted order. A subfolder written by ``datasets`` ``save_to_disk`` is read as
  a dataset (a ``DatasetDict`` as its splits, in the dict's order, with the split in each record's
  meta; ``split`` picks one). Files named like a dataset card or notice (README, LICENSE,
  PROVENANCE, CITATION, CHANGELOG, NOTICE, AUTHORS, dataset_infos.json, any extension) are skipped
  as ``metadata``; hidden entries, symlinked folders (not followed), dangling links and FIFOs are
  skipped too. Every skip is listed with its reason.
- An input that does not exist but holds ``*``, ``?`` or ``[`` is a glob (``'data/*.parquet'``,
  ``**`` for any depth), expanded in sorted order; no match is an error.
- A :class:`MemorySource` is records held by the caller (dicts, or strings as the text).

Names: a source is named by its path relative to its input, prefixed by the input's own name when
several inputs are given (``inaugural/1949-Truman.txt``), so locations and ids never collide.
"""
from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from curadebt.corpus.formats import EXTENSIONS, SourceFile, format_of, supported_text
from curadebt.corpus.records import CorpusError, ReaderConfig

SKIP_HIDDEN = "hidden"
SKIP_SYMLINKED_FOLDER = "symlinked_folder"
SKIP_DANGLING_LINK = "dangling_symlink"
SKIP_NOT_REGULAR = "not_a_regular_file"
SKIP_METADATA = "metadata"

METADATA_NAME = re.compile(r"^(readme|licen[cs]e|provenance|citation|changelog|notice|authors|dataset_infos?)"
                           r"(\..*)?$", re.IGNORECASE)
FORMATS = tuple(EXTENSIONS) + ("dataset",)
_GLOB_MAGIC = re.compile(r"[*?\[]")


@dataclass
class MemorySource:
    """Records held by the caller: ``records()`` returns a fresh iterable of dicts (or strings, taken
    as the text) each time it is called (a corpus is read more than once)."""

    name: str
    records: Callable[[], Iterable[Any]]
    meta: dict[str, Any] = field(default_factory=dict)  # added to every record's meta (a DatasetDict's split)


@dataclass
class SourcePlan:
    items: list[SourceFile | MemorySource] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def is_dataset_dir(p: Path) -> bool:
    return p.is_dir() and (p / "state.json").exists() and (p / "dataset_info.json").exists()


def is_dataset_dict_dir(p: Path) -> bool:
    return p.is_dir() and (p / "dataset_dict.json").exists()


def expand_inputs(inputs) -> list:
    """The inputs with quoted globs expanded (sorted); memory sources and plain paths as they are."""
    items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    out: list = []
    for x in items:
        if isinstance(x, MemorySource):
            out.append(x)
            continue
        s = os.fspath(x)
        if s.startswith("file://"):
            s = s[len("file://"):]
        if "://" in s:
            raise CorpusError(f"{s}: remote URLs are read through the API or the CLI (curadebt.inputs), which "
                              "copy them for the run")
        if not os.path.lexists(s) and _GLOB_MAGIC.search(s):
            matches = sorted(glob.glob(s, recursive=True))
            if not matches:
                raise CorpusError(f"{s}: no file matches this pattern")
            out.extend(Path(m) for m in matches)
        else:
            out.append(Path(s))
    return out


def _check_root(root: Path) -> None:
    if not root.exists():
        what = "a dangling symbolic link" if root.is_symlink() else "no such file or folder"
        raise CorpusError(f"{root}: {what}. Give JSONL(.gz/.zst), JSON, CSV/TSV, Parquet, Arrow or text files, "
                          "folders of them, a saved Hugging Face dataset, or a quoted glob")
    if not root.is_dir() and not root.is_file():
        raise CorpusError(f"{root}: not a regular file or folder (a FIFO or device?); give a file or a folder")


class _Planner:
    def __init__(self, config: ReaderConfig, several: bool):
        self.config, self.several = config, several
        self.plan = SourcePlan()
        self.unknown: list[str] = []

    def skip(self, p: Path, reason: str) -> None:
        self.plan.skipped.append({"path": str(p), "reason": reason})

    def add_file(self, path: Path, rel: str, root_name: str) -> None:
        fmt = self.config.format or format_of(path)
        if fmt is None:
            self.unknown.append(str(path))
            return
        source = None
        if fmt == "text" and self.config.source_from:
            parts = Path(rel).parts  # the top folder under the input (prefixed by the input's name when several)
            source = (parts[0] if len(parts) > 1 else root_name) if self.config.source_from == "folder" else path.name
        self.plan.items.append(SourceFile(path, rel, fmt, source=source))

    def add_dataset(self, path: Path, rel: str) -> None:
        if is_dataset_dict_dir(path):
            splits = json.loads((path / "dataset_dict.json").read_text()).get("splits") or \
                sorted(p.name for p in path.iterdir() if is_dataset_dir(p))
            want = self.config.split
            if want is not None and want not in splits:
                raise CorpusError(f"{path}: no split {want!r}; the splits are {', '.join(map(repr, splits))}")
            for sp in [want] if want is not None else splits:
                self.plan.items.append(SourceFile(path / sp, f"{rel}/{sp}" if rel else sp, "dataset", {"split": sp}))
        else:
            self.plan.items.append(SourceFile(path, rel or path.name, "dataset"))

    def walk(self, folder: Path, root: Path, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            raise CorpusError(f"{folder}: cannot list the folder ({e.strerror or e})") from e
        for e in entries:
            p = Path(e.path)
            rel = prefix + p.relative_to(root).as_posix()
            if e.name.startswith("."):
                self.skip(p, SKIP_HIDDEN)
            elif e.is_symlink() and not p.exists():
                self.skip(p, SKIP_DANGLING_LINK)
            elif e.is_dir(follow_symlinks=False):
                if is_dataset_dir(p) or is_dataset_dict_dir(p):
                    self.add_dataset(p, rel)
                else:
                    self.walk(p, root, prefix)
            elif e.is_symlink() and p.is_dir():
                self.skip(p, SKIP_SYMLINKED_FOLDER)
            elif not e.is_file(follow_symlinks=True):
                self.skip(p, SKIP_NOT_REGULAR)
            elif METADATA_NAME.match(e.name) and not self.config.format:
                self.skip(p, SKIP_METADATA)
            else:
                self.add_file(p, rel, root.name)


def plan_sources(inputs, config: ReaderConfig | None = None) -> SourcePlan:
    """The sources to read, in order (see the module docstring)."""
    config = config or ReaderConfig()
    if config.format is not None and config.format not in FORMATS:
        raise CorpusError(f"unknown format {config.format!r}: use one of {', '.join(FORMATS)}")
    items = expand_inputs(inputs)
    planner = _Planner(config, several=len(items) > 1)
    for x in items:
        if isinstance(x, MemorySource):
            planner.plan.items.append(x)
            continue
        _check_root(x)
        prefix = f"{x.name}/" if planner.several else ""
        if is_dataset_dir(x) or is_dataset_dict_dir(x):
            planner.add_dataset(x, x.name if planner.several else "")
        elif x.is_file():
            planner.add_file(x, x.name, x.parent.name)
        else:
            planner.walk(x, x, prefix)
    if planner.unknown:
        shown = ", ".join(planner.unknown[:5]) + (f" (+{len(planner.unknown) - 5} more)" if len(planner.unknown) > 5 else "")
        raise CorpusError(f"not a corpus format: {shown}. Supported: {supported_text()}; --input-format FORMAT reads files "
                          "anyway, or leave them out")
    _unique_names(planner.plan.items)
    plan = planner.plan
    texts = any(isinstance(i, SourceFile) and i.format == "text" for i in plan.items)
    if config.source_field and texts:
        plan.warnings.append(f"--source-field {config.source_field} does not apply to text files (they have no "
                             "fields); their source is none unless --source-from folder or file")
    if config.source_from and not texts:
        plan.warnings.append(f"--source-from {config.source_from} applies to text files only; none were read")
    return plan


def _unique_names(items: list) -> None:
    """Two sources with one name (files of the same name given from two folders): qualify each with
    its parent folders until the names differ."""
    names = [i.rel if isinstance(i, SourceFile) else i.name for i in items]
    if len(set(names)) == len(names):
        return
    for i in items:
        if isinstance(i, SourceFile) and names.count(i.rel) > 1:
            i.rel = i.path.resolve().as_posix().lstrip("/")
