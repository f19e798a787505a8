"""Shared fixtures."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"public reference configurations not found at {FIXTURES} (see shared/fixtures/README.md)")
    return FIXTURES
