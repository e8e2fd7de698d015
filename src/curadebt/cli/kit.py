"""What every curadebt command shares: one-line errors with the documented exit codes.

:class:`HandledGroup` is the click group of the ``curadebt`` app (and of the stand-alone sub-apps
used in tests). Any exception a command raises is printed as one line, ``label: message``, and
turned into the exit code of :mod:`curadebt.core.errors`; ``--debug`` (or ``CURADEBT_DEBUG=1``) prints
the traceback as well. Text from the data is escaped for rich markup everywhere it is printed.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import re
import sys
import traceback
import types
import typing
from pathlib import Path
from typing import Any, Callable, Optional


import typer
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import TyperException

from curadebt.report.console import data, err  # noqa: F401  (data: for the commands)
from curadebt.core import config as cfgmod
from curadebt.core.errors import classify

_debug = False


def set_debug(value: bool) -> None:
    global _debug
    _debug = bool(value)


def debug_enabled() -> bool:
    return _debug or os.environ.get("CURADEBT_DEBUG", "") not in ("", "0")


def report_error(e: BaseException) -> int:
    """Print ``e`` for the user (one line; the traceback too under --debug); returns the exit code."""
    code, label, msg = classify(e)
    if debug_enabled():
        err.print(escape("".join(traceback.format_exception(e))), highlight=False)
    err.print(f"[red]{escape(label)}:[/] {escape(msg)}", highlight=False)
    return code


class HandledGroup(TyperGroup):
    """A Typer group whose commands never end in a Python traceback (see the module docstring)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # exits and usage errors: Typer shows them
            raise
        except BrokenPipeError:  # the reader went away (`curadebt ... | head`): stop quietly
            sys.stdout = open(os.devnull, "w")
            raise typer.Exit(1) from None
        except (Exception, KeyboardInterrupt) as e:
            raise typer.Exit(report_error(e)) from None


# --- options generated from config dataclasses -------------------------------------------------

CONFIG_HELP = ("YAML/JSON file of settings (the option names with underscores: 'text_field: body'); "
               "flags typed on the command line override it.")


def _optional_inner(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return tp


def _tuple_item(tp: Any) -> Any:
    """The item type of ``tuple[T, ...]`` (a list of values spelt "1,4,16" on the command line), else None."""
    tp = _optional_inner(tp)
    args = typing.get_args(tp)
    if typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return None


def _cli_type(tp: Any) -> Any:
    """A type Typer understands for a config field's annotation (``X | None`` -> ``Optional[X]``)."""
    if _tuple_item(tp) is not None:
        return Optional[str]
    inner = _optional_inner(tp)
    return Optional[inner] if inner is not tp else tp


def _parse_items(text: Any, item: type, flag: str) -> tuple:
    if not isinstance(text, str):  # from a config file: a list already
        return tuple(item(x) for x in (text or ()))
    try:
        return tuple(item(x) for x in re.split(r"[,\s]+", text.strip()) if x)
    except ValueError:
        raise typer.BadParameter(f"{flag} takes {item.__name__} values separated by commas, got {text!r}") from None


def config_options(*classes: type, skip: tuple[str, ...] = (), flags: dict[str, str] | None = None) -> Callable:
    """Decorator for a Typer command: one option per field of the config dataclasses (nested configs
    flattened, help from the field), plus ``--config FILE``. The command receives the built configs
    as keyword ``config`` (one class) or ``configs`` (a tuple, in the order given).

    Precedence: the dataclass default, then the ``--config`` file, then a flag typed on the command
    line. Fields in ``skip`` stay out of the CLI (the command sets them itself); ``flags`` renames a
    field's flag for this command (``{"lr": "--pretrain-lr"}``). A ``tuple[T, ...]`` field is one
    option of comma-separated values (``--tiers 1,4,16``)."""
    flags = flags or {}
    fields: list[tuple[type, cfgmod.Leaf, Any]] = []
    for cls in classes:
        dflt = cfgmod.defaults(cls)
        fields += [(cls, leaf, dflt[leaf.name]) for leaf in cfgmod.leaves(cls)
                   if leaf.field.metadata.get("cli", True) and leaf.name not in skip]

    def decorate(fn: Callable) -> Callable:
        sig = inspect.signature(fn)
        hints = typing.get_type_hints(fn)
        own = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values()
               if p.name not in ("config", "configs")]
        generated, flag_of = [], {}
        for _, leaf, default in fields:
            meta = leaf.field.metadata
            decls = [flags.get(leaf.name) or meta.get("flag") or "--" + leaf.name.replace("_", "-")]
            if meta.get("short"):
                decls.append(meta["short"])
            flag_of[leaf.name] = decls[0].split("/")[0]
            if _tuple_item(leaf.type) is not None and default is not None:
                default = ",".join(str(x) for x in default)
            generated.append(inspect.Parameter(
                leaf.name, inspect.Parameter.KEYWORD_ONLY, annotation=_cli_type(leaf.type),
                default=typer.Option(default, *decls, help=escape(leaf.help), show_default=default not in (None, ""))))
        config_param = inspect.Parameter("config_file", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path],
                                         default=typer.Option(None, "--config", help=CONFIG_HELP))
        context_param = inspect.Parameter("cli_context", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)

        @functools.wraps(fn)
        def command(**kw: Any) -> Any:
            ctx = kw.pop("cli_context")
            file_path = kw.pop("config_file")
            from_file = cfgmod.read_config_file(file_path) if file_path else {}
            typed = {}
            for _, leaf, _default in fields:
                value = kw.pop(leaf.name)
                if ctx.get_parameter_source(leaf.name).name not in ("DEFAULT", "DEFAULT_MAP"):  # typed by the user
                    item = _tuple_item(leaf.type)
                    typed[leaf.name] = _parse_items(value, item, flag_of[leaf.name]) if item is not None else value
            _check_file_keys(from_file, classes, file_path)
            built = []
            for cls in classes:
                keys = _file_keys(cls)
                cfg = cfgmod.from_mapping(cls, {k: v for k, v in from_file.items() if _key(k) in keys})
                known = cfgmod.leaf_map(cls)
                built.append(cfgmod.replace(cfg, **{k: v for k, v in typed.items() if k in known}))
            if "configs" in sig.parameters:
                return fn(**kw, configs=tuple(built))
            return fn(**kw, config=built[0])

        command.__signature__ = sig.replace(parameters=own + generated + [config_param, context_param])
        command.__annotations__ = {p.name: p.annotation for p in command.__signature__.parameters.values()}
        del command.__wrapped__  # Typer must read the generated signature, not fn's
        return command

    return decorate


def _key(k: Any) -> str:
    return str(k).replace("-", "_")


def _file_keys(cls: type) -> set[str]:
    """The keys a config file may use for ``cls``: its settings' flat names and its nested groups."""
    return set(cfgmod.leaf_map(cls)) | {f.name for f in dataclasses.fields(cls)}


def _check_file_keys(settings: dict, classes: tuple[type, ...], path: Any) -> None:
    """Every key of a config file names a setting of one of the command's configs."""
    known = set().union(*(_file_keys(cls) for cls in classes))
    unknown = sorted(str(k) for k in settings if _key(k) not in known)
    if unknown:
        raise cfgmod.ConfigError(f"{path}: unknown setting(s) {unknown}; known: {', '.join(sorted(known))}")
