"""Shelters per 市町村 from public data alone: what a council can take to a committee
before it has any list of its own.

From the GSI 指定緊急避難場所・指定避難所 data (and N03 boundaries for names, hazard zones
when given) :func:`shelter_tables` counts, per municipality: emergency sites and
shelters, the sites designated for each hazard, welfare-type shelters (受入対象者),
stated capacity, and — with zones — the designated sites that lie inside a zone of
the hazard they are designated for.  Every table carries the data it rests on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.summary import Summary, optional
from layers.boundaries import municipality_names
from layers.hazards import in_zones
from layers.shelters import HAZARD_LABELS, HAZARDS

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["ShelterTables", "ShelterTablesSummary", "shelter_tables"]

UNKNOWN_MUNI = "（市町村不明）"


@dataclass(frozen=True)
class ShelterTablesSummary(Summary):
    """Counts for the whole region."""

    municipalities: int
    emergency_sites: int
    shelters: int
    welfare_shelters: int
    capacity_stated: int
    capacity_total: int
    in_zone: int | None = optional()


@dataclass
class ShelterTables:
    """Per-municipality tables of shelters (rows: municipalities, then a 合計 row)."""

    by_municipality: pd.DataFrame
    """Sites by kind, welfare shelters, stated capacity (and sites in zones)."""
    by_hazard: pd.DataFrame
    """Emergency sites designated for each hazard (columns: hazard labels)."""
    rests_on: list[str] = field(default_factory=list)
    """The data each figure comes from (said under every table)."""

    def summary(self) -> ShelterTablesSummary:
        total = self.by_municipality.iloc[-1]
        return ShelterTablesSummary(
            municipalities=len(self.by_municipality) - 1,
            emergency_sites=int(total["emergency_sites"]), shelters=int(total["shelters"]),
            welfare_shelters=int(total["welfare_shelters"]),
            capacity_stated=int(total.get("capacity_stated", 0)),
            capacity_total=int(total.get("capacity_total", 0)),
            in_zone=int(total["in_zone"]) if "in_zone" in total else None)


def _muni_column(shelters: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None) -> pd.Series:
    names = municipality_names(boundaries)
    codes = shelters["muni_code"].astype(str) if "muni_code" in shelters else pd.Series(
        "", index=shelters.index)
    return codes.map(lambda c: names.get(c, c) if c else UNKNOWN_MUNI)


def _designated_in_zone(shelters: gpd.GeoDataFrame, hazards: gpd.GeoDataFrame) -> np.ndarray:
    """Sites inside a zone of a hazard they are designated for (one query per hazard)."""
    hit = np.zeros(len(shelters), dtype=bool)
    for key in dict.fromkeys(hazards["hazard"].astype(str)):
        if key not in HAZARDS:
            continue
        flagged = shelters[key].to_numpy(bool)
        inside = in_zones(shelters, hazards[hazards["hazard"] == key])
        hit |= flagged & inside
    return hit


def shelter_tables(shelters: gpd.GeoDataFrame, *, boundaries: gpd.GeoDataFrame | None = None,
                   hazards: gpd.GeoDataFrame | None = None) -> ShelterTables:
    """Count the shelters of each municipality (see the module notes).

    Parameters
    ----------
    shelters
        The shelters layer (:mod:`layers.shelters`: kind, hazard flags, accepts, capacity).
    boundaries
        Municipality names for the codes (``muni_code``); without them codes are shown.
    hazards
        Hazard zones; with them a column counts designated sites inside their zones.
    """
    muni = _muni_column(shelters, boundaries)
    emergency = (shelters["kind"] == "emergency_site").to_numpy()
    cap = pd.to_numeric(shelters["capacity"], errors="coerce")
    frame = pd.DataFrame({
        "municipality": muni.to_numpy(),
        "emergency_sites": emergency.astype(int),
        "shelters": (~emergency).astype(int),
        "welfare_shelters": shelters["welfare"].to_numpy(bool).astype(int),
        "capacity_stated": cap.notna().to_numpy().astype(int),
        "capacity_total": cap.fillna(0).to_numpy(),
    })
    zones = False
    if hazards is not None and len(hazards):
        frame["in_zone"] = _designated_in_zone(shelters, hazards).astype(int)
        zones = True
    flags = pd.DataFrame({HAZARD_LABELS[k]: (shelters[k].to_numpy(bool) & emergency).astype(int)
                          for k in HAZARDS}, index=frame.index)
    flags.insert(0, "municipality", frame["municipality"])
    by_muni = frame.groupby("municipality", sort=True).sum().reset_index()
    by_hz = flags.groupby("municipality", sort=True).sum().reset_index()
    by_muni = pd.concat([by_muni, _total(by_muni)], ignore_index=True)
    by_hz = pd.concat([by_hz, _total(by_hz)], ignore_index=True)
    by_muni["capacity_total"] = by_muni["capacity_total"].round().astype(int)
    rests_on = ["国土地理院「指定緊急避難場所・指定避難所データ」: 施設の種類、災害ごとの指定、"
                "受入対象者（福祉避難所型）、収容人数（記載のある施設のみ合計）。"]
    if not by_muni["capacity_stated"].iloc[-1]:  # GSI files carry no capacity: say so, once
        by_muni = by_muni.drop(columns=["capacity_stated", "capacity_total"])
        rests_on.append("このデータには収容人数の記載がないため、収容人数の列は省きました。")
    if boundaries is not None and len(boundaries):
        rests_on.append("市町村名: 国土数値情報（行政区域）。")
    if zones:
        rests_on.append("危険区域: 地域設定の hazards レイヤー"
                        "（指定された災害の区域内にある施設を数えています）。")
    return ShelterTables(by_municipality=by_muni, by_hazard=by_hz, rests_on=rests_on)


def _total(table: pd.DataFrame) -> pd.DataFrame:
    row = table.drop(columns="municipality").sum().to_frame().T
    row.insert(0, "municipality", "合計")
    return row


def analyse_shelter_tables(region: RegionLike) -> ShelterTables:
    """Shelters per 市町村 from public data alone: kinds, hazard designations, welfare
    shelters, stated capacity and, with hazard zones, designated sites inside them."""
    return shelter_tables(region.layer("shelters"), boundaries=region.layers.get("boundaries"),
                          hazards=region.layers.get("hazards"))
