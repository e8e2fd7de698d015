"""What every curate operation sees: the per-document features, the decision state, the audit of
the input (its report dict and the duplicate assignments) and the probes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curadebt.measures.debt import DebtThresholds
from curadebt.curation.plan import Plan
from curadebt.curation.scan import DocTable


@dataclass
class OpContext:
    table: DocTable
    plan: Plan
    before: dict[str, Any]                     # report.json dict of the input audit
    assignments: Any = None                    # curadebt.measures.duplicates.ClusterAssignments
    probes: list = field(default_factory=list)  # curadebt.measures.probe_files.Probe, in file order
    thresholds: DebtThresholds = field(default_factory=DebtThresholds)
    paths: Any = None                          # the input corpus (for ops that must read text again)
    reader: Any = None                         # its ReaderConfig
    progress: bool = False                     # show progress bars for ops that read the text again
    output_order: Any = None                   # (ordinals, copy indexes) once the order op has run

    def ids(self, ordinals) -> list[str]:
        return [self.table.ids[int(o)] for o in ordinals]

    def is_debt(self, dimension: str) -> bool:
        d = ((self.before.get("debt") or {}).get("dimensions") or {}).get(dimension) or {}
        return bool(d.get("is_debt"))
