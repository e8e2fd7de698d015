"""The curate op: a params dataclass that registers itself and applies its decisions.

An op module in :mod:`curadebt.curation.ops` (or any module named in the ``curadebt.ops``
entry-point group) is the only place that lists its op::

    @register_op
    @dataclass
    class DropShort(Op):
        \"\"\"Drop documents under ``min_tokens`` tokens.\"\"\"      # the recipe reference

        name: ClassVar[str] = "drop_short"                        # its key in a recipe
        dimension: ClassVar[str] = "duplicates"                   # what ``when: debt`` looks at
        min_tokens: int = 5                                       # its parameters, with defaults

        def validate(self) -> None: ...                            # RecipeError naming the parameter
        def apply(self, ctx: OpContext, index: int) -> OpSummary:  # record decisions in ctx.plan
            ...

The recipe parser, the runner, ``--print-recipe`` and the report then know it: an op never touches
text, it records decisions (copies per document, with a reason) in the plan.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from curadebt.core.errors import EXIT_USAGE, CuradebtError
from curadebt.core.registry import Registry

if TYPE_CHECKING:
    from curadebt.curation.context import OpContext
    from curadebt.curation.plan import OpSummary


class RecipeError(CuradebtError, ValueError):
    """A recipe that cannot be used; the message names the op and the parameter."""

    exit_code = EXIT_USAGE
    label = "recipe error"


WHEN = ("always", "debt")
SELECT = ("diverse", "random")


@dataclass
class Op:
    name: ClassVar[str] = ""
    #: the debt dimension the op pays down (for ``when: debt``)
    dimension: ClassVar[str] = ""
    #: order in listings (``known: ...``, the docs); the recipe decides the order ops run in
    position: ClassVar[int] = 100
    #: a terminal op (the output order) comes last, once per recipe
    terminal: ClassVar[bool] = False
    #: appended to the note of an op skipped by ``when: debt``
    skip_note: ClassVar[str] = ""
    when: str = "always"

    def validate(self) -> None:
        if self.when not in WHEN:
            raise RecipeError(f"{self.name}: when must be one of {WHEN}, got {self.when!r}")

    def check_in_recipe(self, ops: list["Op"], index: int) -> None:
        """Rules about where the op may stand in the recipe (``ops[index] is self``)."""

    def preflight(self, config: Any) -> None:
        """Checks that need the run's config (a CurateConfig) or the machine, made before any pass:
        a missing model, a missing source field."""

    def apply(self, ctx: "OpContext", index: int) -> "OpSummary":
        raise NotImplementedError(f"op {self.name!r} has no apply")

    def params(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


OPS: Registry[type[Op]] = Registry("op", "curadebt.curation.ops", "curadebt.ops", order=lambda c: c.position)


def register_op(cls: type[Op]) -> type[Op]:
    """Class decorator: make ``cls`` known to recipes under ``cls.name``."""
    if not cls.name:
        raise TypeError(f"{cls.__qualname__} has no name")
    OPS.add(cls.name, cls)
    return cls


def op_type(name: str) -> type[Op]:
    if name not in OPS:
        raise RecipeError(f"unknown op {name!r}; known: {', '.join(OPS.names())}")
    return OPS.get(name)


def make_op(name: str, params: dict[str, Any] | None = None) -> Op:
    """An op from its recipe name and parameters, validated (unknown ones are errors)."""
    cls = op_type(name)
    params = dict(params or {})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise RecipeError(f"{name}: unknown parameter(s) {unknown}; known: {sorted(known)}")
    op = cls(**params)
    op.validate()
    return op


def check_select(op: Any) -> None:
    if op.select not in SELECT:
        raise RecipeError(f"{op.name}: select must be one of {SELECT}, got {op.select!r}")
