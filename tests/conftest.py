"""Fixtures every test package may use: isolated settings and an embedded store per test."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings whose data directory is a fresh temporary folder; no iocwatch.toml is read."""
    from core.settings import load_settings

    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("IOCWATCH_"):
            monkeypatch.delenv(key)
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def store(settings):
    """An embedded store under the test's data directory."""
    from index import open_store

    st = open_store(settings)
    yield st
    st.close()
