"""Every setting an operator can set is in the operations guide, under its variable name."""

from __future__ import annotations

from pathlib import Path

from tower.settings import Settings

GUIDE = Path(__file__).parents[2] / "docs" / "operations.md"


def test_every_setting_is_documented() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    missing = [
        f"TOWER_{name.upper()}"
        for name in Settings.model_fields
        if f"TOWER_{name.upper()}" not in guide
    ]
    assert missing == [], f"add these to docs/operations.md: {missing}"
