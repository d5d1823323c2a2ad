"""Japanese UI text (default) with an English switch."""

from __future__ import annotations

import streamlit as st

TEXT: dict[str, tuple[str, str]] = {
    "app_title": ("ともにマップ", "tomoni-map"),
    "page_map": ("地図", "Map"),
    "page_data": ("データ", "Data"),
    "page_export": ("エクスポート", "Export"),
    "language": ("言語 / Language", "言語 / Language"),
    "region": ("地域", "Region"),
    "fictional": ("架空データ（デモ地域）", "Fictional demo data"),
    "hazard": ("災害の種類（避難所の色分け）", "Hazard (colours shelters)"),
    "basemap": ("背景地図", "Basemap"),
    "basemap_none": ("なし（オフライン）", "None (offline)"),
    "layers": ("表示するレイヤー", "Layers shown"),
    "selected": ("選択した地物", "Selected feature"),
    "click_hint": ("地図上の避難所や居場所をクリックすると名前が表示されます。",
                   "Click a shelter or place on the map to see its name."),
    "source": ("データの読み込み元", "Data source"),
    "source_demo": ("デモ地域（架空）", "Demo region (fictional)"),
    "source_toml": ("地域設定ファイル（TOML）", "Region file (TOML)"),
    "toml_path": ("地域設定ファイルのパス", "Path of the region TOML"),
    "open": ("開く", "Open"),
    "upload": ("ファイルを追加", "Add a file"),
    "upload_layer": ("追加先のレイヤー", "Layer"),
    "upload_help": ("国土地理院の避難所 CSV（Shift_JIS / UTF-8）、GeoJSON、zip にしたシェープファイル、"
                    "GeoPackage、緯度・経度のある CSV",
                    "GSI shelter CSV (Shift_JIS / UTF-8), GeoJSON, zipped shapefile, GeoPackage, "
                    "CSV with coordinates"),
    "uploaded": ("追加したファイル", "Added files"),
    "summary": ("読み込み結果", "Summary"),
    "loading": ("地域を読み込んでいます…", "Loading the region…"),
    "loaded": ("読み込みました", "Loaded"),
    "save_region": ("この地域をフォルダに保存", "Save this region as a folder"),
    "save_path": ("保存先フォルダ", "Folder"),
    "save": ("保存", "Save"),
    "saved": ("保存しました", "Saved"),
    "export_map": ("地図画像", "Map image"),
    "export_layers": ("レイヤー（GeoPackage）", "Layers (GeoPackage)"),
    "title": ("タイトル", "Title"),
    "paper": ("用紙", "Paper"),
    "format": ("形式", "Format"),
    "make_image": ("地図画像を作る", "Make the map image"),
    "download": ("ダウンロード", "Download"),
    "remove": ("削除", "Remove"),
    "errors": ("読み込めませんでした", "Could not load"),
    "warnings": ("警告", "Warnings"),
    "rows": ("行数", "Rows"),
    "vulnerable_help": ("名簿（緯度・経度と区分の列がある CSV）は読み込んだその場で匿名化し、"
                        "k 人未満の単位は隣と合算した密度だけを保持します。個人の位置・氏名・住所は"
                        "表示も保存もしません。",
                        "A register extract is anonymised as it is read: only densities whose every "
                        "unit has k or more people are kept; no point, name or address is shown or saved."),
    "unit": ("集計単位", "Unit"),
    "page_coverage": ("カバー率", "Coverage"),
    "page_consolidation": ("校区再編", "School consolidation"),
    "need_districts": ("校区と要配慮者のレイヤーが必要です。", "Needs school districts and 要配慮者."),
    "need_periods": ("校区レイヤーに再編前・後の2つの時点が必要です（地域設定の periods）。",
                     "The school-district layer needs two periods (periods in the region TOML)."),
    "before": ("再編前", "Before"),
    "after": ("再編後", "After"),
    "school_threshold": ("通学距離のしきい値（m）", "Distance threshold (m)"),
    "mean_change": ("学校までの道のりの平均の変化", "Mean change of the way to school"),
    "past_after": ("再編後にしきい値を超える人", "Beyond the threshold after"),
    "pushed": ("再編でしきい値を超える人", "Pushed past the threshold"),
    "pushed_areas": ("しきい値を超える人がいる自治会", "Areas with people pushed past the threshold"),
    "need_vulnerable": ("要配慮者レイヤーがありません。"
                        "データのページで名簿（匿名化されます）を追加してください。",
                        "No 要配慮者 layer: add a register on the Data page (it is anonymised)."),
    "facility_layer": ("施設のレイヤー", "Facilities"),
    "threshold": ("徒歩圏のしきい値（m）", "Threshold (m)"),
    "threshold_minutes": ("（{minutes:.0f} 分）", "({minutes:.0f} min)"),
    "profile": ("歩く速さ", "Walking speed"),
    "profile_walk": ("一般（80 m/分）", "Adult (80 m/min)"),
    "profile_elderly": ("高齢者（50 m/分）", "Elderly (50 m/min)"),
    "computing": ("道路網で計算しています…", "Computing on the road network…"),
    "total": ("要配慮者", "People"),
    "covered": ("徒歩圏内", "Covered"),
    "rate": ("カバー率", "Rate"),
    "gaps": ("空白地帯", "Gaps"),
    "gap_list": ("空白地帯（人数の多い順）", "Gaps (most people first)"),
    "gap_focus": ("地図で見る空白地帯", "Show gap on the map"),
    "by_area": ("自治会・校区・市町村ごと", "Per area"),
    "mapping": ("列の対応（自動で見つからないとき）", "Column mapping (when not found automatically)"),
    "mapping_help": ("空欄なら「名称」「緯度」「経度」などの見出しを自動で探します。"
                     "保存した地域設定にも残ります。",
                     "Leave blank to detect 名称/緯度/経度 etc.; kept in a saved region."),
    "col_name": ("名称の列", "Name column"),
    "col_lat": ("緯度の列", "Latitude column"),
    "col_lon": ("経度の列", "Longitude column"),
    "col_id": ("ID の列", "ID column"),
    "unit_mesh": ("地域メッシュ", "JIS mesh"),
    "unit_jichikai": ("自治会", "Neighbourhoods"),
    "mesh_size": ("メッシュの大きさ", "Mesh size"),
    "k_help": ("公開する単位の最小人数（3 以上、既定 5）", "Minimum people per published unit (≥ 3)"),
}


def lang() -> str:
    """The current UI language (``"ja"`` or ``"en"``)."""
    return str(st.session_state.get("lang", "ja"))


def t(key: str) -> str:
    """The UI text for ``key`` in the current language."""
    ja, en = TEXT.get(key, (key, key))
    return ja if lang() == "ja" else en
