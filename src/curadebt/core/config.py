"""One config mechanism: a dataclass whose fields carry their help text feeds the CLI, YAML files and
the Python API alike.

A field is declared once, with :func:`setting`::

    @dataclass
    class ReaderConfig:
        text_field: str = setting("text", help="Field holding the document text.")
        format: str | None = setting(None, flag="--input-format", help="Read every file as this format ...")

and a config may nest others (``reader: ReaderConfig = nested(ReaderConfig)``). Nested fields are
addressed by their own names everywhere a user types them (flat): ``--text-field``, ``text_field:``
in a YAML file, ``audit(..., text_field="body")``. A YAML file may also nest them (``reader:
{text_field: body}``). Unknown keys are errors that list the known ones. The command line builds its
options from the same fields (:mod:`curadebt.cli.kit`): a default there is the dataclass default, a
YAML file given with ``--config`` overrides it, a flag typed on the command line overrides both.
"""
from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any, Iterator

from curadebt.core.errors import EXIT_USAGE, CuradebtError


class ConfigError(CuradebtError, ValueError):
    """A config file or a setting that cannot be used; the message names the key."""

    exit_code = EXIT_USAGE
    label = "config error"


def setting(default: Any = dataclasses.MISSING, *, help: str, flag: str | None = None, short: str | None = None,
            cli: bool = True, default_factory: Any = dataclasses.MISSING) -> Any:
    """A config field with its help text. ``flag``: the CLI flag when it is not ``--field-name``;
    ``short``: a one-letter alias; ``cli=False``: settable from YAML and Python only (a value a
    flag cannot spell, such as a list of fractions)."""
    meta = {"help": help, "flag": flag, "short": short, "cli": cli}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def nested(cls: type, default: Any = None) -> Any:
    """A field holding another config dataclass (its fields are addressed flat, see the module doc);
    ``default``: a factory for an instance with other defaults (``lambda: WorldConfig(filler_docs=4000)``)."""
    return dataclasses.field(default_factory=default or cls, metadata={"nested": True})


@dataclasses.dataclass(frozen=True)
class Leaf:
    """One settable field of a (possibly nested) config: its flat name, path and type."""

    name: str
    path: tuple[str, ...]          # attribute path from the top config ("reader", "text_field")
    type: Any
    field: dataclasses.Field

    @property
    def help(self) -> str:
        return self.field.metadata.get("help", "")


def _is_nested(f: dataclasses.Field) -> bool:
    return bool(f.metadata.get("nested"))


def leaves(cls: type, _prefix: tuple[str, ...] = ()) -> Iterator[Leaf]:
    """Every settable field of ``cls``, nested configs flattened, in declaration order."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name.startswith("_") or not f.init:
            continue
        if _is_nested(f):
            yield from leaves(hints[f.name], _prefix + (f.name,))
        else:
            yield Leaf(f.name, _prefix + (f.name,), hints[f.name], f)


def leaf_map(cls: type) -> dict[str, Leaf]:
    out: dict[str, Leaf] = {}
    for leaf in leaves(cls):
        if leaf.name in out:  # a flat name must say which field it is
            raise TypeError(f"{cls.__name__}: field name {leaf.name!r} appears twice ({out[leaf.name].path}, "
                            f"{leaf.path})")
        out[leaf.name] = leaf
    return out


def defaults(cls: type) -> dict[str, Any]:
    """Every leaf's default by its flat name, as an instance made with no arguments has it (a nested
    config's defaults may differ from its own class's)."""
    inst = cls()
    out = {}
    for leaf in leaves(cls):
        value = inst
        for part in leaf.path:
            value = getattr(value, part)
        out[leaf.name] = value
    return out


def flat_dict(obj: Any) -> dict[str, Any]:
    """The config as one flat mapping (the form report.json records), in declaration order."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if _is_nested(f):
            out.update(flat_dict(value))
        else:
            out[f.name] = value
    return out


def replace(obj: Any, **changes: Any) -> Any:
    """A copy of ``obj`` with fields set by their flat names (``replace(cfg, text_field="body")``);
    nested configs are copied, never shared."""
    known = leaf_map(type(obj))
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise ConfigError(f"unknown setting(s) {unknown} for {type(obj).__name__}; known: {sorted(known)}")
    return _rebuild(obj, {known[k].path: v for k, v in changes.items()})


def build(cls: type, **settings: Any) -> Any:
    """``cls`` with settings given by their flat names: ``build(AuditConfig, text_field="body", workers=2)``."""
    return replace(cls(), **settings)


def _rebuild(obj: Any, changes: dict[tuple[str, ...], Any]) -> Any:
    kw: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        if not f.init:
            continue
        if _is_nested(f):
            sub = {p[1:]: v for p, v in changes.items() if p[0] == f.name}
            kw[f.name] = _rebuild(getattr(obj, f.name), sub)
        elif (f.name,) in changes:
            kw[f.name] = changes[(f.name,)]
    return dataclasses.replace(obj, **kw)


def flatten_mapping(cls: type, data: Any, where: str = "") -> dict[str, Any]:
    """Flat ``name -> value`` from a mapping that may nest (``reader: {text_field: body}``) or not."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where or cls.__name__}: expected a mapping of settings, got {type(data).__name__}")
    known = leaf_map(cls)
    groups = {f.name: f for f in dataclasses.fields(cls) if _is_nested(f)}
    out: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key).replace("-", "_")
        if key in groups and isinstance(value, dict):
            sub = typing.get_type_hints(cls)[key]
            out.update(flatten_mapping(sub, value, f"{where}{key}."))
        elif key in known:
            is_tuple = typing.get_origin(known[key].type) is tuple
            out[key] = tuple(value) if is_tuple and isinstance(value, list) else value
        else:
            raise ConfigError(f"{where}{key}: unknown setting; known: {', '.join(sorted(known))}")
    return out


def from_mapping(cls: type, data: Any, base: Any = None) -> Any:
    """An instance of ``cls`` (or a copy of ``base``) with the settings of a mapping applied."""
    return replace(base if base is not None else cls(), **flatten_mapping(cls, data))


def read_yaml_or_json(path: str | Path, error: type[Exception] = ConfigError, what: str = "the config file") -> Any:
    """The data in a YAML file (JSON for a ``.json`` name); ``error`` names the file and the problem."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise error(f"{p}: cannot read {what}: {e}") from e
    try:
        return json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        raise error(f"{p}: not valid YAML/JSON: {e}") from e


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML or JSON config file (an empty file is an empty mapping)."""
    p = Path(path)
    data = read_yaml_or_json(p)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: a config file is a mapping of settings (text_field: body, ...)")
    return data
