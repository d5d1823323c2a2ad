"""The files and the Japanese table of the shelters' minimum needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from geo.analyses.shelter_needs import RATIO_LABELS, ShelterNeeds
from geo.outputs.csv_safe import csv_text

__all__ = ["japanese_table", "write_outputs"]


JAPANESE = {"shelter_id": "避難所ID", "name": "名称", "kind": "種別", "evacuees": "避難者数",
            "care_evacuees": "うち要配慮者",
            "welfare_evacuees": "うち福祉避難所が必要な要配慮者（推定）",
            "toilets_first": "トイレ（発災当初）",
            "toilets_later": "トイレ（その後）", "toilets_later_female": "うち女性用",
            "toilets_later_male": "うち男性用", "baths": "入浴設備", "area_needed_m2": "必要面積（m²）",
            "floor_area_m2": "面積（m²）", "area_basis": "面積の根拠", "people_fit": "基準の面積で入れる人数",
            "area_short_m2": "不足面積（m²）"}


def japanese_table(needs: ShelterNeeds) -> pd.DataFrame:
    """The table with Japanese headers (the CSV and the report)."""
    return needs.table.rename(columns=JAPANESE)


def write_outputs(needs: ShelterNeeds, out: Path) -> list[Any]:
    """``shelter_needs.csv`` (UTF-8 with BOM) and ``shelter_needs_ratios.csv`` (the ratios used)."""
    from layers.atomic import atomic_write_text

    out.mkdir(parents=True, exist_ok=True)
    ratios = pd.DataFrame({"項目": list(needs.ratios), "説明": [RATIO_LABELS[k] for k in needs.ratios],
                           "値": list(needs.ratios.values())})
    return [atomic_write_text(out / "shelter_needs.csv", csv_text(japanese_table(needs)),
                              encoding="utf-8-sig"),
            atomic_write_text(out / "shelter_needs_ratios.csv", csv_text(ratios), encoding="utf-8-sig")]
