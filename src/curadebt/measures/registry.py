"""The measures of an audit, one registration per measure module.

A measure module ends with one :func:`register` call naming what it owns::

    register(MeasureSpec(
        name="frequency", title="Frequency imbalance",
        build=lambda cfg: FrequencyMeasure(max_n=cfg.max_n, ...),   # None: not run for this config
        score=score_frequency,      # (section, report, thresholds) -> (dimension, findings)
        render=render_frequency,    # (section, ctx) -> HTML, from curadebt.report.htmlkit
        position=10, debt_position=60))

and that is the only place that lists it: the audit runs every registered measure that ``build``
returns, report.json gets its section, the debt score its dimension, the page its section. A measure
from another package registers the same way from a module named in the ``curadebt.measures``
entry-point group. A *follow-up* measure (``followup`` instead of ``build``) runs after the
streaming pass on what the other measures found (training order reads the corpus prefix with the
whole-corpus mixture at hand); it runs when the sections in ``requires`` exist, once they (and
those in ``uses``, when they are run) are final. A measure's ``complete`` hook amends its own result
with the corpus at hand, once it is final (duplicates: the text previews of the largest clusters).
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from curadebt.core.registry import Registry

if TYPE_CHECKING:
    from curadebt.core.measure import Measure


@dataclass(frozen=True)
class FollowupContext:
    """What a follow-up measure gets: the corpus, the config, and the streaming pass's results."""

    paths: Any
    config: Any
    tokenizer: Any
    extractor: Any
    sections: dict
    tokens: int
    progress: bool = False
    executor: Any = None     # the engine's workers, for a follow-up that reads in parts (None: here)
    units: Any = None        # the main pass's units and where each starts (engine.passes.PassUnits)


@dataclass(frozen=True)
class MeasureSpec:
    name: str                                                  # its key in report.json
    title: str                                                 # its section's title on the page
    build: Callable[[Any], "Measure | None"] | None = None     # AuditConfig -> measure (None: skip)
    followup: Callable[[FollowupContext], Any] | None = None   # instead of build: after the pass
    requires: tuple[str, ...] = ()                             # sections a follow-up needs
    uses: tuple[str, ...] = ()                                 # sections it reads when they exist
    complete: Callable[[FollowupContext, Any], None] | None = None  # amends its result, corpus at hand
    score: Callable[[dict, dict, Any], tuple[dict, list]] | None = None  # its debt dimension
    render: Callable[[dict, Any], str] | None = None           # its report section
    position: int = 100                                        # order of sections in the report
    debt_position: int = 100                                   # order of dimensions in the debt
    origin: str = ""                                           # the registering module (for errors)


MEASURES: Registry[MeasureSpec] = Registry("measure", "curadebt.measures", "curadebt.measures",
                                           order=lambda s: s.position)


def register(spec: MeasureSpec) -> MeasureSpec:
    if not spec.origin:
        spec = dataclasses.replace(spec, origin=sys._getframe(1).f_globals.get("__name__", "?"))
    return MEASURES.add(spec.name, spec)


def specs() -> list[MeasureSpec]:
    return MEASURES.items()


def section_names() -> list[str]:
    return [s.name for s in specs()]


def dimension_specs() -> list[MeasureSpec]:
    return sorted((s for s in specs() if s.score is not None), key=lambda s: (s.debt_position, s.name))


def dimension_names() -> list[str]:
    return [s.name for s in dimension_specs()]


def section_views():
    from curadebt.report.html import SectionView

    return [SectionView(s.name, s.title, s.render) for s in specs()]


def render_report(report: dict, title: str | None = None, extra_sections=None, skip=(), drawn=None) -> str:
    """An audit report.json dict as the HTML page, with every registered measure's section;
    ``drawn``: sections drawn already by :func:`render_section` (by name: an engine's workers draw
    them as the audit's results come; the page is the same)."""
    from curadebt.report.html import render_report_html

    return render_report_html(report, section_views(), title=title, extra_sections=extra_sections, skip=skip,
                              drawn=drawn)


def render_section(name: str, section: Any) -> str:
    """The page's section of the registered measure ``name`` (an engine task)."""
    from curadebt.report.html import render_section as render

    return render(next(v for v in section_views() if v.name == name), section)
