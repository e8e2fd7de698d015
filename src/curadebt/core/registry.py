"""A named registry: the one place an extension point (measures, curate ops) lists its members.

Built-in members register themselves when their module is imported (the registry imports every
module of its package the first time it is read); third-party members come from an installed
distribution's entry point group (``[project.entry-points."curadebt.measures"]``), or from any code
that calls :meth:`Registry.add` before the run. A name registered twice is an error, unless the same
object is registered again (a module imported twice).
"""
from __future__ import annotations

import importlib
import pkgutil
from contextlib import contextmanager
from typing import Callable, Generic, Iterator, TypeVar

from curadebt.core.errors import EXIT_USAGE, CuradebtError

T = TypeVar("T")


class RegistryError(CuradebtError, ValueError):
    exit_code = EXIT_USAGE


class Registry(Generic[T]):
    def __init__(self, kind: str, package: str, entry_point_group: str, order: Callable[[T], object] | None = None):
        self.kind = kind
        self._package = package
        self._group = entry_point_group
        self._order = order
        self._items: dict[str, T] = {}
        self._loaded = False

    def add(self, name: str, item: T) -> T:
        old = self._items.get(name)
        if old is not None and old is not item and _origin(old) != _origin(item):
            raise RegistryError(f"{self.kind} {name!r} is registered twice ({_origin(old)} and {_origin(item)})")
        self._items[name] = item
        return item

    def remove(self, name: str) -> None:
        self._items.pop(name, None)

    @contextmanager
    def registered(self, name: str, item: T) -> Iterator[T]:
        """``item`` registered for the duration of a ``with`` block (tests, notebooks)."""
        self.load()
        self.add(name, item)
        try:
            yield item
        finally:
            self.remove(name)

    @contextmanager
    def overridden(self, name: str, item: T) -> Iterator[T]:
        """Member ``name`` replaced by ``item`` for the duration of a ``with`` block."""
        self.load()
        old = self._items.get(name)
        self._items[name] = item
        try:
            yield item
        finally:
            if old is None:
                self._items.pop(name, None)
            else:
                self._items[name] = old

    def load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        pkg = importlib.import_module(self._package)
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            importlib.import_module(f"{self._package}.{info.name}")
        from importlib.metadata import entry_points

        for ep in sorted(entry_points(group=self._group), key=lambda e: e.name):
            ep.load()  # the module registers its members on import

    def get(self, name: str) -> T:
        self.load()
        try:
            return self._items[name]
        except KeyError:
            raise RegistryError(f"unknown {self.kind} {name!r}: known are {', '.join(self.names())}") from None

    def __contains__(self, name: str) -> bool:
        self.load()
        return name in self._items

    def items(self) -> list[T]:
        """Every member, in the registry's order (then by name)."""
        self.load()
        members = sorted(self._items.items(), key=lambda kv: kv[0])
        if self._order is not None:
            members.sort(key=lambda kv: self._order(kv[1]))
        return [v for _, v in members]

    def names(self) -> list[str]:
        self.load()
        return [n for n, v in sorted(self._items.items(), key=lambda kv: (self._order(kv[1]) if self._order else 0, kv[0]))]


def _origin(item: object) -> str:
    fn = getattr(item, "origin", None) or getattr(item, "__module__", None) or type(item).__module__
    return str(fn)
