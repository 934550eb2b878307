"""Shared fixtures: an isolated data directory per test, the real shared data where present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.core.config import Config

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("STUDYBUDDY_SHARED_DATA") or REPO.parent / "shared" / "data")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("STUDYBUDDY_HOME", str(home))
    return home


@pytest.fixture
def config(home) -> Config:
    return Config(home=home)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "textbooks").is_dir():
        pytest.skip(f"the shared data folder {SHARED_DATA} is absent (set STUDYBUDDY_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory) -> Path:
    """A data directory with the bundled sample library built once for the whole session."""
    from knowledge_base.ingest import ensure_sample_library

    home = tmp_path_factory.mktemp("sample-home")
    ensure_sample_library(Config(home=home))
    return home
