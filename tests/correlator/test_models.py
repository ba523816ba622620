"""Journey model files: shipped defaults load; a bad user file fails with file, line, reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from correlator.models import load_models
from tower.yamlfile import ConfigFileError

SHIPPED = Path(__file__).parents[2] / "correlator" / "models"


def test_the_shipped_models_load() -> None:
    models = load_models()
    assert set(models.by_kind) == {
        "order",
        "shipment",
        "invoice",
        "inventory",
        "return",
        "purchase_order",
    }
    order = models.by_kind["order"]
    assert order.stage_of("shipment.shipped").name == "shipped"  # type: ignore[union-attr]
    assert order.includes == ["shipment", "invoice"]


def test_a_user_model_replaces_the_shipped_one_of_its_kind(tmp_path: Path) -> None:
    text = (SHIPPED / "order.yaml").read_text().replace("next_within: 4h", "next_within: 2h")
    (tmp_path / "order.yaml").write_text(text)
    order = load_models(tmp_path).by_kind["order"]
    assert order.stage("accepted").next_within.total_seconds() == 7200  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (("next_within: 4h", "next_within: four hours"), 20, "'four hours' is not a duration"),
        (("  - name: picked", "  - name: Picked"), 24, "stages.4.name: String should match"),
        (
            ("done_at: [invoiced, closed]", "done_at: [paid]"),
            54,
            "done_at: Value error, names unknown",
        ),
        (("kind: order", "kind: order\ncolour: blue"), 5, "colour: Extra inputs"),
        (("stages:", "stages: ["), 11, "not valid YAML"),
    ],
)
def test_a_bad_model_names_file_line_and_reason(
    tmp_path: Path, change: tuple[str, str], line: int, reason: str
) -> None:
    text = (SHIPPED / "order.yaml").read_text().replace(*change)
    path = tmp_path / "order.yaml"
    path.write_text(text)
    with pytest.raises(ConfigFileError) as error:
        load_models(tmp_path)
    assert str(error.value).startswith(f"{path}:{line}: ")
    assert reason in str(error.value)


def test_two_models_for_one_object_type_are_refused(tmp_path: Path) -> None:
    text = (SHIPPED / "order.yaml").read_text().replace("kind: order", "kind: sales_order")
    (tmp_path / "sales_order.yaml").write_text(text)
    with pytest.raises(ConfigFileError, match="object_type order already has a model"):
        load_models(tmp_path)
