"""The shared conformance vectors under ../shared/vectors, read in place (never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors"  # beside the repo


def vector_dir(name: str) -> Path:
    """../shared/vectors/<name>, or skip the test when the shared folder is absent."""
    folder = VECTORS / name
    if not folder.is_dir():
        pytest.skip(f"shared vectors not found at {folder} (../shared is absent)")
    return folder


def vector_files(name: str, pattern: str) -> list[Path]:
    """Matching files for parametrize; empty (the test then skips) when ../shared is absent."""
    folder = VECTORS / name
    return sorted(folder.glob(pattern)) if folder.is_dir() else []
