"""Shared test fixtures. Real-data tests use ../shared/data and skip with a reason when it is absent."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()


def shared_data_path(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with a clear reason."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (the shared real-data folder beside the project; present in CI, absent in a fresh clone)")
    return p


@pytest.fixture
def shared_data():
    return shared_data_path
