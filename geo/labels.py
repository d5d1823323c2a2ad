"""Japanese labels for result columns and codes, shared by the app's tables and the reports."""

from __future__ import annotations

import pandas as pd

__all__ = ["COLUMN_LABELS", "DECISION_JA", "STATUS_JA", "japanese_table"]

COLUMN_LABELS = {
    "area_layer": "区域の種類", "area_id": "ID", "area_name": "名称", "total": "要配慮者",
    "covered": "徒歩圏内", "uncovered": "圏外", "rate": "カバー率", "gap_id": "空白地帯",
    "rank": "順位", "people": "人数", "uncovered_people": "圏外の人", "nearest_facility": "最寄りの施設",
    "nearest_m": "最寄りまで(m)", "shelter_id": "避難所ID", "name": "名称", "status": "状態",
    "capacity": "収容人数", "demand": "割り当て人数", "load_ratio": "負荷率", "overloaded": "超過",
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
}
STATUS_JA = {"usable": "使用可", "in_zone": "危険区域内", "not_designated": "指定なし"}
DECISION_JA = {"as_normal": "通常どおり", "next_in_municipality": "同じ市町村の次の候補",
               "backup_neighbour": "隣接市町村の代替", "none": "候補なし"}


def japanese_table(df: pd.DataFrame) -> pd.DataFrame:
    """The table with Japanese column names and status/decision codes in words (for display)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: STATUS_JA.get(v, DECISION_JA.get(v, v))
                                    if isinstance(v, str) else v)
    return out.rename(columns=COLUMN_LABELS)
