"""Minimum needs per shelter in a scenario: toilets, floor area and baths for its evacuees.

The expected evacuees of a shelter are the demand the shelter-load analysis assigns
to it (:mod:`geo.analyses.shelter_load`), with the 要配慮者 who need a 福祉避難所 shown apart.
They are set against the ratios of the national 避難所運営 guideline as revised in
December 2024, which follow the Sphere standards:

=========================  =======  ==============================================
key                        default  meaning
=========================  =======  ==============================================
toilet_people_first        50       people per toilet in the first days
toilet_people_later        20       people per toilet once the stay lasts
toilet_female_share        0.75     share of toilets for women (male:female 1:3)
bath_people                50       people per bath (or shower)
area_m2_per_person         3.5      floor area per person (m²)
capacity_m2_per_person     2.0      m² a person that a stated 収容人数 assumed, used
                                    to estimate the floor area where it is not given
=========================  =======  ==============================================

:data:`DEFAULT_RATIOS` is that table; :func:`read_ratios` reads a CSV of
``項目,値`` (or ``key,value``) rows that change any of them.  Where a shelter's
floor area is given (``floor_area_m2``) it is used; else it is estimated from its
capacity (labelled 推定); else the area is left unknown.

Who evacuates (:func:`analyse_shelter_needs`): every resident — the projected total of the
500 m cells (``[projection]``, the year nearest today) — with the 要配慮者 of the register
shown apart; a region without a projection counts the 要配慮者 alone and says so.  A
building the GSI lists twice (as 指定避難所 and as 指定緊急避難場所, same name and place) is
one row, its evacuees summed; a shelter no one is assigned to is left out (and counted in
a note).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo.analyses.shelter_load import (
    ShelterLoad,
    ShelterOptions,
    ShelterRun,
    analyse_shelters,
)
from geo.summary import Summary
from layers.crs import STORAGE_CRS, transform_xy
from layers.errors import LayerError
from layers.shelters import KIND_LABELS

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["EVERYONE", "RATIO_LABELS", "ShelterNeeds", "analyse_shelter_needs", "evacuee_demand",
           "read_ratios", "shelter_needs"]


DEFAULT_RATIOS: dict[str, float] = {
    "toilet_people_first": 50.0, "toilet_people_later": 20.0, "toilet_female_share": 0.75,
    "bath_people": 50.0, "area_m2_per_person": 3.5, "capacity_m2_per_person": 2.0,
}

RATIO_BOUNDS: dict[str, tuple[float, float]] = {
    "toilet_people_first": (1.0, 10_000.0), "toilet_people_later": (1.0, 10_000.0),
    "toilet_female_share": (0.0, 1.0), "bath_people": (1.0, 10_000.0),
    "area_m2_per_person": (0.5, 100.0), "capacity_m2_per_person": (0.5, 100.0),
}
"""What a ratio may be: people per toilet or bath from 1, m² per person from 0.5 (a share is
strictly between 0 and 1). A ratio of 1e-308 gave −9.2e18 toilets."""

RATIO_LABELS = {
    "toilet_people_first": "トイレ1基あたりの人数（発災当初）",
    "toilet_people_later": "トイレ1基あたりの人数（その後）",
    "toilet_female_share": "女性用トイレの割合",
    "bath_people": "入浴設備1つあたりの人数",
    "area_m2_per_person": "1人あたりの面積（m²）",
    "capacity_m2_per_person": "収容人数が前提とした1人あたりの面積（m²）",
}

SOURCE = "避難所運営ガイドライン（内閣府、2024年12月改定）・スフィア基準"


@dataclass(frozen=True)
class ShelterNeedsSummary(Summary):
    """Totals over the usable shelters of one scenario."""

    hazard: str
    shelters: int
    evacuees: int | str
    """The protected number of people who reach a usable shelter (as the load's)."""
    toilets_first: int
    toilets_later: int
    baths: int
    area_short: int
    area_unknown: int


@dataclass
class ShelterNeeds:
    """Per usable shelter: evacuees and what they need (see module doc)."""

    hazard: str
    table: pd.DataFrame
    ratios: dict[str, float]
    notes: list[str] = field(default_factory=list)
    evacuees: int | str = 0
    """The protected total of evacuees (the load's ``assigned``)."""

    def summary(self) -> ShelterNeedsSummary:
        t = self.table
        return ShelterNeedsSummary(
            hazard=self.hazard, shelters=len(t), evacuees=self.evacuees,
            toilets_first=int(t["toilets_first"].sum()), toilets_later=int(t["toilets_later"].sum()),
            baths=int(t["baths"].sum()), area_short=int((t["area_short_m2"] > 0).sum()),
            area_unknown=int(t["floor_area_m2"].isna().sum()))


def read_ratios(path: Path) -> dict[str, float]:
    """The default ratios with the rows of a ``項目,値`` CSV/Excel table applied."""
    from layers.readers import find_column, parse_numbers, read_table, table_row

    df = read_table(path)
    key_col, val_col = find_column(df, ("項目", "key")), find_column(df, ("値", "value"))
    if key_col is None or val_col is None:
        raise LayerError("比率の表には「項目」と「値」の列が必要です。", file=path, row=1,
                         column="項目" if key_col is None else "値",
                         fix=f"項目は次のいずれか: {', '.join(DEFAULT_RATIOS)}")
    names = {**{k: k for k in DEFAULT_RATIOS}, **{v: k for k, v in RATIO_LABELS.items()}}
    out = dict(DEFAULT_RATIOS)
    seen: dict[str, int] = {}
    _text, values = parse_numbers(df[val_col])
    for i, key in enumerate(df[key_col].astype(str).str.strip()):
        if key not in names:
            raise LayerError("知らない項目です。", file=path, row=table_row(df, i), column=key_col,
                             fix=f"次のいずれかにしてください: {', '.join(DEFAULT_RATIOS)}")
        if names[key] in seen:
            raise LayerError(f"同じ項目が2回あります（{seen[names[key]]} 行目と同じ）。", file=path,
                             row=table_row(df, i), column=key_col, fix="どちらか一方を消してください。")
        seen[names[key]] = table_row(df, i)
        v, (low, high) = float(values[i]), RATIO_BOUNDS[names[key]]
        share = names[key] == "toilet_female_share"
        if not np.isfinite(v) or not (low < v < high if share else low <= v <= high):
            raise LayerError(f"値が範囲外です（{low:g}〜{high:g}）。", file=path, row=table_row(df, i),
                             column=val_col, fix="例: トイレ1基あたり 50（人）、女性用の割合 0.75")
        out[names[key]] = v
    return out


def shelter_needs(load: ShelterLoad, shelters: pd.DataFrame, *, ratios: dict[str, float] | None = None,
                  care: ShelterLoad | None = None, who: str = "要配慮者") -> ShelterNeeds:
    """Minimum needs of every usable building of ``load`` (see module doc).

    ``shelters`` is the shelters layer (for ``floor_area_m2`` where given).  ``care`` is the
    load of the 要配慮者 alone on the same scenario when ``load``'s evacuees are a wider
    demand (everyone, projected 65+): its per-shelter demand is shown apart; without it the
    evacuees are the 要配慮者 themselves.  ``who`` names the evacuees in the notes."""
    r = {**DEFAULT_RATIOS, **(ratios or {})}
    s = load.shelters[load.shelters["status"] == "usable"]
    head = _buildings(s)
    first_row = np.unique(head)
    b = s.iloc[first_row]
    evacuees = _summed(s["demand"].astype("Int64").to_numpy(), head)
    care_n = _summed(_care(s, care), head)
    # a protected count shown as 「k未満」 is planned for as k people
    n_unknown = pd.Series(s["demand"].isna().to_numpy()).groupby(head).sum().to_numpy()
    evac = evacuees.to_numpy(float, na_value=0.0) + load.k * n_unknown
    cap = b["capacity"].astype("Float64").to_numpy(float, na_value=np.nan)
    given = np.full(len(b), np.nan)
    if "floor_area_m2" in shelters:
        given = (shelters.set_index(shelters["shelter_id"].astype(str))["floor_area_m2"]
                 .reindex(b["shelter_id"].astype(str)).to_numpy(float))
    area = np.where(np.isfinite(given), given, cap * r["capacity_m2_per_person"])
    basis = np.where(np.isfinite(given), "面積", np.where(np.isfinite(cap), "収容人数から推定", "不明"))
    need = evac * r["area_m2_per_person"]
    later = np.ceil(evac / r["toilet_people_later"]).astype(int)
    female = np.ceil(later * r["toilet_female_share"]).astype(int)
    kinds = pd.Series(s["kind"].map(KIND_LABELS).fillna(s["kind"]).to_numpy()).groupby(head).agg(
        lambda k: "・".join(sorted(set(k))))
    table = pd.DataFrame({
        "shelter_id": b["shelter_id"].to_numpy(), "name": b["name"].to_numpy(), "kind": kinds.to_numpy(),
        "evacuees": evacuees, "care_evacuees": care_n,
        "welfare_evacuees": pd.Series(s["welfare_demand"].to_numpy(float)).groupby(head).sum().to_numpy(),
        "toilets_first": np.ceil(evac / r["toilet_people_first"]).astype(int), "toilets_later": later,
        "toilets_later_female": female, "toilets_later_male": later - female,
        "baths": np.ceil(evac / r["bath_people"]).astype(int),
        "area_needed_m2": np.round(need, 1), "floor_area_m2": np.round(area, 1), "area_basis": basis,
        "people_fit": np.floor(area / r["area_m2_per_person"]),
        "area_short_m2": np.round(np.where(np.isfinite(area), np.maximum(need - area, 0), np.nan), 1)})
    empty = evac <= 0
    table = table.assign(_e=evac)[~empty].sort_values(["_e", "shelter_id"], ascending=[False, True]).drop(
        columns="_e").reset_index(drop=True)
    return ShelterNeeds(hazard=load.hazard, table=table, ratios=r,
                        notes=_notes(r, who, merged=len(s) - len(b), empty=int(empty.sum()),
                                     estimated=bool((basis == "収容人数から推定").any()),
                                     small=bool(s["demand"].isna().any()), k=load.k),
                        evacuees=load.people.get("assigned", int(np.nansum(evac))))


def _notes(r: dict[str, float], who: str, *, merged: int, empty: int, estimated: bool, small: bool,
           k: int) -> list[str]:
    notes = [f"比率: {SOURCE}。" + "、".join(f"{RATIO_LABELS[key]} {v:g}" for key, v in r.items()),
             f"避難者数は{who}を最寄りの使える避難所へ割り当てた人数です。"]
    if merged:
        notes.append(f"指定避難所と指定緊急避難場所の両方に載っている同じ建物（{merged} 件）は1行にまとめ、"
                     "避難者数を合わせました。")
    if empty:
        notes.append(f"避難者が割り当てられない避難所 {empty} か所は表に載せていません。")
    if estimated:
        notes.append(f"面積のない避難所は、収容人数 × {r['capacity_m2_per_person']:g} m² で"
                     "面積を推定しました。")
    if small:
        notes.append(f"避難者が{k}人未満の避難所は、{k}人として必要量を見積もりました。")
    return notes


SAME_PLACE_M = 50.0
"""Two usable shelters of one name within these metres are one building."""


def _buildings(s: pd.DataFrame) -> np.ndarray:
    """Per row, the row standing for its building (same name within :data:`SAME_PLACE_M`):
    the building's 指定避難所 record if it has one, else its first.  Pairs from one spatial
    query (a prefecture's thousands of records, never a square matrix)."""
    import shapely

    n = len(s)
    if not n:
        return np.zeros(0, np.int64)
    lat = s.geometry.y.to_numpy()
    x, y = transform_xy(s.geometry.x.to_numpy(), lat, STORAGE_CRS, "EPSG:3857")
    scale = np.cos(np.radians(lat))  # web-mercator metres shrink with latitude
    i, j = shapely.STRtree(shapely.points(x, y)).query(shapely.points(x, y), predicate="dwithin",
                                                         distance=SAME_PLACE_M / float(scale.min()))
    names = s["name"].astype(str).to_numpy()
    same = (names[i] == names[j]) & (np.hypot(x[i] - x[j], y[i] - y[j]) * scale[i] <= SAME_PLACE_M)
    rank = np.where((s["kind"] == "shelter").to_numpy(), 0, n) + np.arange(n)
    best = pd.Series(rank[j[same]]).groupby(i[same]).min().reindex(range(n)).to_numpy()
    return (best % n).astype(np.int64)


def _summed(counts: np.ndarray, head: np.ndarray) -> pd.Series:
    """Protected counts summed per building: 「k未満」 (``<NA>``) only when every part is."""
    c = pd.Series(pd.array(counts, dtype="Int64"))
    return c.groupby(head).sum(min_count=1).astype("Int64").reset_index(drop=True)


def _care(s: pd.DataFrame, care: ShelterLoad | None) -> np.ndarray:
    """The 要配慮者 among each shelter's evacuees (protected; ``<NA>`` = 「k未満」)."""
    if care is None:
        return s["demand"].astype("Int64").to_numpy()
    by_id = care.shelters.set_index(care.shelters["shelter_id"].astype(str))["demand"].astype("Int64")
    return by_id.reindex(s["shelter_id"].astype(str), fill_value=0).to_numpy()




EVERYONE = "total"
"""The demand of the evacuees when the region has a projection: every resident."""


def evacuee_demand(region: RegionLike, demand: str | None = None) -> str:
    """Who evacuates: ``demand`` when given, else everyone (the projection's total) when the
    region has ``[projection]``, else the 要配慮者 of the register."""
    if demand:
        return demand
    return EVERYONE if region.config.projection else "register"


WHO = {"total": "地域の全住民（将来推計の総人口）", "65+": "65歳以上（将来推計）",
       "75+": "75歳以上（将来推計）", "register": "要配慮者"}


def analyse_shelter_needs(region: RegionLike, options: ShelterOptions | None = None, *,
                          ratios: dict[str, float] | None = None, care: ShelterRun | None = None,
                          evacuees: str | None = None) -> tuple[ShelterRun, ShelterNeeds]:
    """The shelter load of a hazard and, per usable shelter, its minimum needs.

    Evacuees are ``evacuees`` (a demand of :data:`geo.analyses.inputs.DEMANDS`) when given,
    else everyone where the region has a projection (:func:`evacuee_demand`); the 要配慮者 of
    the register are assigned on the same scenario and shown apart (``care``: their run of
    :func:`analyse_shelters` for the same options, already computed — a page passes its
    run, never a scenario).  Without a projection the evacuees are the 要配慮者 alone, and
    a note says what to add."""
    opt = options or ShelterOptions()
    who = evacuee_demand(region, evacuees)
    has_register = region.layers.get("vulnerable") is not None
    scenario = care.scenario if care is not None else None
    if who == "register" and care is not None:
        run = care
    else:
        run = analyse_shelters(region, dataclasses.replace(opt, demand=who), scenario=scenario)
    load = care.load if care is not None else None
    if who != "register" and has_register and load is None:
        load = analyse_shelters(region, dataclasses.replace(opt, demand="register"),
                                scenario=run.scenario).load
    needs = shelter_needs(run.load, region.layer("shelters"), ratios=ratios,
                          care=load if who != "register" else None, who=WHO.get(who, who))
    if who == "register" and not evacuees:
        needs.notes.append("全住民の人数がないため、避難者は要配慮者だけで数えています。全住民で見積もるには、"
                           "データのページで将来推計人口（国土数値情報 500mメッシュ）を加えてください。")
    return run, needs
