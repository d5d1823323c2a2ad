"""Japanese labels for result columns and codes, shared by the app's tables and the reports."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from layers.shelters import KIND_LABELS

__all__ = [
    "COLUMN_LABELS",
    "DECISION_JA",
    "METHOD_JA",
    "STATUS_JA",
    "display_values",
    "japanese_table",
    "percent",
    "protected_text",
]

COLUMN_LABELS = {
    "year": "年", "season": "季節", "place_id": "居場所ID", "people_summer": "夏に届く人",
    "people_winter": "冬に届く人", "people_lost": "冬に届かなくなる人", "covered_summer": "夏の徒歩圏",
    "covered_winter": "冬の徒歩圏", "lost": "冬に届かなくなる人", "gaps": "空白地帯の数",
    "gain_today_only": "今だけを見た答えで増えた人", "gain_first_year": "最初の年に増える人",
    "area_layer": "区域の種類", "area_id": "ID", "area_name": "名称", "total": "要配慮者",
    "approx": "概数（広い単位）", "covered_n": "徒歩圏内の人", "lost_n": "冬に届かなくなる人",
    "covered": "徒歩圏内", "uncovered": "圏外", "rate": "カバー率", "gap_id": "空白地帯",
    "rank": "順位", "people": "人数", "uncovered_people": "圏外の人", "nearest_facility": "最寄りの施設ID",
    "nearest_name": "最寄りの施設",
    "nearest_m": "最寄りまで(m)", "shelter_id": "避難所ID", "name": "名称", "status": "状態",
    "capacity": "収容人数", "demand": "割り当て人数", "unreachable_n": "避難先のない人",
    "load_ratio": "負荷率", "overloaded": "超過",
    "muni_code": "市町村コード", "muni_name": "市町村", "decision": "判断", "open_site": "開設する候補地",
    "open_site_name": "候補地名", "person_km": "人・km", "worst_unit_m": "最遠の単位(m)",
    "people_unreachable": "到達できない人", "muni_a": "市町村A", "name_a": "名称A", "muni_b": "市町村B",
    "name_b": "名称B", "people_across": "越境して近い人", "vc_distance_km": "VC間(km)",
    "vc_minutes_estimate": "VC間(分・目安)", "reason": "理由", "candidate_id": "候補ID",
    "newly_covered_people": "新たに徒歩圏", "newly_covered_units": "単位数", "source": "出所",
    "from_muni": "から", "to_muni": "へ", "layer": "施設", "units": "単位数", "mean_saving_m": "短縮(m)",
    "normal_site": "通常時の候補地", "open_site_muni": "候補地の市町村", "priority": "候補順位",
    "person_km_muni": "人・km（市町村内）", "person_km_all": "人・km（地域全体）", "mean_m_muni": "平均(m)",
    "worst_shelter_m": "最遠の避難所(m)", "people_unreachable_muni": "到達できない人",
    "rank_in_muni": "市町村内の順位", "kind": "種別", "capacity_note": "備考", "welfare": "福祉避難所型",
    "welfare_available": "使用可（福祉）", "welfare_demand": "推定需要（福祉）", "count": "人数",
    "unit_id": "単位", "site_id": "候補地ID", "route_length_m": "ルート(m)", "p": "か所数",
    "covered_after": "開いた後の徒歩圏", "covered_before": "今の徒歩圏", "newly_covered": "新たに徒歩圏",
    "gap": "ギャップ", "method": "方法", "marginal": "1 か所増やした効果", "gain": "増えた人",
    "rate_before": "今のカバー率", "rate_after": "後のカバー率", "capacity_col": "容量",
    "distance_m": "道のり(m)", "mean_change_m": "平均の変化(m)", "max_after_m": "再編後の最遠(m)",
    "people_pushed": "しきい値を超える人", "facility_id": "最寄りの施設", "elderly_min": "高齢者の徒歩(分)",
    "reachable": "到達できる", "far": "遠い", "lon": "経度", "lat": "緯度", "near": "場所（近くの区域）",
    "to_id": "行き先ID", "to_name": "行き先", "normal_length_m": "通常時(m)", "normal_time_s": "通常時(秒)",
    "hazard_length_m": "災害時(m)", "hazard_time_s": "災害時(秒)",
    "winter_length_m": "冬(m)", "winter_time_s": "冬(秒)", "people_best": "最も多い居場所の人数",
    "newly_lost": "新たに", "places": "居場所の数", "below": "基準割れ",
    "viable_places": "基準以上の居場所", "lost_last_place": "すべて基準割れ",
    "detour_ratio": "迂回率",
    "closed_edges_avoided": "避けた通行止め", "vc_id": "担当VC", "vc_distance_m": "VCまで(m)",
    "welfare_shelter_id": "福祉避難所", "access_2sfca": "アクセス指標（混み具合を考えた近さ）",
    "geography": "単位",
    "municipality": "市町村", "emergency_sites": "指定緊急避難場所", "shelters": "指定避難所",
    "welfare_shelters": "福祉避難所型（受入対象者あり）", "capacity_stated": "収容人数の記載あり",
    "capacity_total": "収容人数の合計（記載分）", "in_zone": "危険区域内にある指定施設",
    "areas_across": "越境して近い地区（代替指標）", "areas": "地区数（代替指標）",
    "reach_walk": "徒歩だけで届く", "reach_bus": "徒歩＋バスで届く", "gained_bus": "バスで新たに届く",
    "lost_weekend": "休日に届かなくなる", "lost_winter": "冬に届かなくなる", "unreached": "届かない",
    "rate_bus": "到達率（徒歩＋バス）", "route_id": "路線ID", "route_name": "路線", "trips": "便数",
    "stops": "停留所数", "in_reach": "停留所まで歩ける人", "between": "停留所の間（新しい停留所の位置）",
    "nearby": "近くのまだ届かない人", "gained": "新たに届く人", "departure": "増やす便の発車",
    "faster": "早く着くようになる人", "minutes_saved": "短縮(分・平均)", "walk_min": "徒歩だけ(分)",
    "earliest_arrival": "最も早い到着", "best_min": "最短(分)", "median_min": "中央値(分)",
    "worst_min": "最長(分)", "usable_trips": "使える便", "from": "始発", "to": "終着",
    "demand_ride": "デマンド交通で届く", "by_walk": "徒歩だけで届く", "by_bus": "徒歩＋バスで届く",
    "only_by_bus": "バスがあって届く", "weekend_lost": "休日に届かない", "winter_lost": "冬に届かない",
}
METHOD_JA = {"network": "道路の道のり", "milp": "最適化（厳密解）", "greedy": "貪欲法", "trivial": "—",
             "mclp": "最大被覆", "capacitated_mclp": "容量つき最大被覆", "min_sites": "必要最少の箇所数",
             "exact": "全組合せ", "interchange": "交換法"}
SOURCE_JA = {"gap_nodes": "空白地帯の道路", "gap_units": "空白地帯の中心", "closed_schools": "閉校になる学校"}
RATE_COLUMNS = ("rate", "rate_before", "rate_after", "load_ratio", "rate_bus")
"""Shares (0–1) shown as percentages."""
CODE_COLUMNS = ("muni_code", "from_muni", "to_muni", "open_site_muni")
"""Columns holding municipality codes (shown as names when the names are known)."""
STATUS_JA = {"usable": "使用可", "in_zone": "危険区域内", "not_designated": "指定なし"}
DECISION_JA = {"as_normal": "通常どおり", "next_in_municipality": "同じ市町村の次の候補",
               "backup_neighbour": "隣接市町村の代替", "none": "候補なし"}




def percent(value: object) -> str:
    """A share (0–1) as people read it: ``0.0949`` → ``9.5 %`` (blank when missing)."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return "" if v != v else f"{v * 100:.1f} %"


def _texty(column: pd.Series) -> bool:
    return column.dtype == object or pd.api.types.is_string_dtype(column)


YES_NO_COLUMNS = frozenset({"newly_lost", "lost_last_place", "below", "by_walk", "by_bus", "only_by_bus",
                            "weekend_lost", "winter_lost", "demand_ride", "approx", "overloaded", "welfare",
                            "welfare_available"})
"""Flags shown as はい / blank."""


def people_text(value: object) -> str:
    """A protected count of people for a sentence or a metric: ``1,234`` or 「5未満」
    (``<NA>``: 「k未満」)."""
    if value is pd.NA or value is None:
        return "k未満"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return str(value)
    return f"{int(value):,}"


def people_gain(before: object, after: object) -> str:
    """``+N`` between two protected counts, or an empty text when either is hidden."""
    if isinstance(before, int) and isinstance(after, int):
        return f"+{after - before:,}"
    return ""


def protected_text(values: pd.Series) -> pd.Series:
    """A protected count column (``Int64``, :func:`layers.cellkey.protect`) as written and
    shown: its numbers, and 「k未満」 where the count is hidden."""
    from layers.cellkey import SUPPRESSED

    if not isinstance(values.dtype, pd.Int64Dtype) or not values.isna().any():
        return values
    return values.astype(object).where(values.notna(), SUPPRESSED)


def display_values(df: pd.DataFrame, *, municipalities: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The table's values as a person reads them (columns keep their names): codes and enums
    in words, shares as percentages, layer keys as layer names, municipality codes as names
    (``municipalities`` maps code → name), and nothing shown as ``None``/``nan``."""
    from layers.layer_facts import label_of

    out = pd.DataFrame(df.drop(columns="geometry", errors="ignore")).copy()
    words = {**STATUS_JA, **DECISION_JA, **KIND_LABELS}
    for col in out.columns:
        if isinstance(out[col].dtype, pd.Int64Dtype):  # a protected count: <NA> is 「k未満」
            out[col] = protected_text(out[col])
        elif col in RATE_COLUMNS:
            out[col] = out[col].map(percent)
        elif col in ("area_layer", "layer"):
            out[col] = out[col].map(lambda v: label_of(str(v)) if isinstance(v, str) else v)
        elif col == "method":
            out[col] = out[col].map(lambda v: METHOD_JA.get(v, v))
        elif col == "year":  # 2035, not 2,035
            out[col] = out[col].map(lambda v: str(int(v)) if pd.notna(v) else "")
        elif col in YES_NO_COLUMNS:
            out[col] = out[col].map(lambda v: "はい" if v is True or v == 1 else "")
        elif col == "source":
            out[col] = out[col].map(lambda v: SOURCE_JA.get(v, v))
        elif col in CODE_COLUMNS and municipalities:
            out[col] = out[col].map(lambda v: municipalities.get(str(v), v) if v else v)
        elif _texty(out[col]):
            out[col] = out[col].map(lambda v: words.get(v, v) if isinstance(v, str) else v)
        if _texty(out[col]):
            out[col] = out[col].astype(object).map(
                lambda v: "" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v)
    return out


def japanese_table(df: pd.DataFrame, *, municipalities: Mapping[str, str] | None = None) -> pd.DataFrame:
    """:func:`display_values` with Japanese column names (for the app's tables and downloads)."""
    return display_values(df, municipalities=municipalities).rename(columns=COLUMN_LABELS)
