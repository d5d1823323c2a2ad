"""The region report (PDF and HTML) and the per-area sheets, in Japanese, A4.

One HTML document (figures as embedded PNG, tables as HTML) is written as a
self-contained ``report.html`` and laid out by WeasyPrint (Pango, embedded
IPAexGothic) into ``report.pdf``: cover with the region, date, data sources and
their dates (架空 badge for the demo), summary figures, maps (layers, 要配慮者
density with its anonymisation note, coverage and gaps, shelters in the hazard
scenario, the VC plan and main routes, cross-border flows, recommended sites when
computed), tables per 自治会/校区/市町村, and a method page.  Page numbers,
table headers repeated on every page, the attribution under every map and in
the page footer.

Per-area sheets (``sheets_{layer}.pdf``): one page per 自治会 or 校区 with its
map and figures, for handing to 民生委員 and 自治会 leaders.

Only published (anonymised) units and their sums per area appear: an area's
figure is a sum of whole published units, each of k or more people.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shapely
from jinja2 import Template

from geo.analyses.coverage import ESTIMATE_LABEL
from geo.analyses.shelter_needs import ShelterNeeds
from geo.analyses.shelter_tables import ShelterTables
from geo.engine.profiles import DEFAULT_ACCESS, SPEEDS_M_PER_MIN
from geo.outputs.closed_roads import closed_roads_frame
from geo.outputs.files.shelter_needs import japanese_table
from geo.outputs.labels import COLUMN_LABELS, display_values, people_gain, people_text
from geo.outputs.maps import COVERAGE_PALETTE, coverage_classes
from geo.outputs.printed_map import map_bytes, static_map
from geo.outputs.route_sheet import ROUTE_STYLES, route_frames
from layers.atomic import atomic_path, atomic_paths
from layers.boundaries import municipality_names
from layers.crs import crs_label
from layers.layer_facts import LAYER_LABELS, LAYERS
from layers.provenance import source_table
from layers.school_districts import current_period
from layers.shelters import HAZARD_LABELS

if TYPE_CHECKING:  # the region run is drawn here, never run
    from geo.runs.region_results import RegionResults
    from layers.region import RegionLike

__all__ = ["COLUMN_LABELS", "area_sheets_html", "report_html", "write_pdf", "write_report"]

log = logging.getLogger(__name__)

TEMPLATE = Path(__file__).with_name("templates") / "report.html.j2"
FIG_DPI = 150


def _esc(v: Any) -> str:
    return html.escape(str(v))


def _img(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _fig_html(png: bytes, caption: str, attribution: Sequence[str]) -> str:
    # credit lines that already start with 出典 are not prefixed again (出典: 出典：…)
    attr = " ／ ".join(re.sub(r"^出典[:：]\s*", "", a) for a in attribution)
    return (f'<figure><img src="{_img(png)}" alt="{_esc(caption)}"><figcaption>{_esc(caption)}'
            f"　出典: {_esc(attr)}</figcaption></figure>")


def _fmt(v: Any) -> str:
    if v is pd.NA:  # a protected count below k
        return "k未満"
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    if isinstance(v, bool | np.bool_):
        return "○" if v else ""
    if isinstance(v, float | np.floating):
        f = float(v)
        return f"{f:,.2f}" if abs(f) < 10 else f"{f:,.0f}"
    if isinstance(v, int | np.integer):
        return f"{v:,}"
    return str(v)


def table_html(df: pd.DataFrame, *, columns: Sequence[str] | None = None, limit: int | None = None,
               note: str = "", municipalities: Mapping[str, str] | None = None) -> str:
    """A DataFrame as an HTML table with Japanese headers (repeated on every PDF page) and
    values in words (:func:`geo.outputs.labels.display_values`)."""
    if df is None or df.empty:
        return '<p class="note">（該当なし）</p>'
    cols = [c for c in (columns or df.columns) if c in df.columns]
    shown = display_values(df[cols] if limit is None else df[cols].head(limit),
                           municipalities=municipalities)
    head = "".join(f"<th>{_esc(COLUMN_LABELS.get(c, c))}</th>" for c in cols)
    rows = []
    for rec in shown.itertuples(index=False):
        cells = []
        for v in rec:
            num = isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
            cells.append(f'<td class="{"n" if num else ""}">{_esc(_fmt(v))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if limit is not None and len(df) > limit:
        more = f'<p class="note">上位 {limit} 件を表示（全 {len(df):,} 件はデータ出力の CSV を参照）。</p>'
    extra = f'<p class="note">{_esc(note)}</p>' if note else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}{extra}"


def _boxes(items: Sequence[tuple[str, str]]) -> str:
    return '<div class="figures">' + "".join(
        f'<div class="figure-box"><div class="v">{_esc(v)}</div><div class="k">{_esc(k)}</div></div>'
        for k, v in items) + "</div>"


# ------------------------------------------------------------------ maps


def _png(fig: Any) -> bytes:
    data = map_bytes(fig, fmt="png", dpi=FIG_DPI)
    plt.close(fig)
    return data


def _maps(res: RegionResults, lay: Mapping[str, gpd.GeoDataFrame]) -> list[tuple[str, bytes, str]]:
    """(section key, PNG, caption) for every map the results allow."""
    region = res.region
    common: dict[str, Any] = {"crs": region.crs, "fictional": region.fictional,
                              "attribution": region.attribution(), "paper": "A4-landscape"}
    hz = HAZARD_LABELS.get(res.hazard, res.hazard)
    out = []
    base = {k: v for k, v in lay.items() if k != "vulnerable"}
    out.append(("overview", _png(static_map(base, title=f"{region.name}　レイヤーの一覧",
                                            hazard=res.hazard, **common)), "地域のレイヤー（避難所の色は"
                f"{hz}のときの使用可否）"))
    if "vulnerable" in lay:
        note = lay["vulnerable"].attrs.get("anonymisation_note", "")
        shown = {k: lay[k] for k in ("boundaries", "vulnerable") if k in lay}
        out.append(("density", _png(static_map(shown, title=f"{region.name}　要配慮者の分布（匿名化済み）",
                                               **common)),
                    f"要配慮者の密度。{note}"))
    if res.coverage is not None and res.gaps is not None and "vulnerable" in lay:
        cls, labels = coverage_classes(res.coverage.units["distance_m"].to_numpy(float),
                                       res.coverage.max_distance)
        fig = static_map({k: lay[k] for k in ("boundaries", "places") if k in lay},
                         title=f"{region.name}　居場所までの道のりと空白地帯",
                         choropleth=(lay["vulnerable"], [COVERAGE_PALETTE[c] for c in cls],
                                     list(zip(COVERAGE_PALETTE, labels, strict=True))),
                         outlines=(res.gaps, "空白地帯"), **common)
        method = "道路沿いの距離" if res.coverage.method == "network" else ESTIMATE_LABEL
        out.append(("coverage", _png(fig), f"居場所までの道のり（{method}、徒歩圏 "
                                           f"{res.coverage.max_distance:.0f} m）と空白地帯（破線）"))
    if res.scenario is not None:
        zones = res.scenario.zones
        closed = closed_roads_frame(res.scenario)
        fig = static_map({"boundaries": lay["boundaries"], "hazards": zones, "shelters": lay["shelters"]}
                         if "boundaries" in lay else {"hazards": zones, "shelters": lay["shelters"]},
                         title=f"{region.name}　{hz}のときの避難所と通行止め", hazard=res.hazard,
                         overlays=[(closed[closed["state"] == "closed"],
                                    {"color": "#5a1e00", "linewidth": 0.8}, "通行止めの道路")], **common)
        out.append(("shelters", _png(fig), f"{hz}の想定区域、避難所の使用可否、区域内の通行止めの道路"))
    if res.vc is not None:
        overlays: list[tuple[gpd.GeoDataFrame, Mapping[str, Any], str | None]] = []
        for i, routes in enumerate(res.routes.values()):
            frames = route_frames(routes, crs=region.crs)
            for k, frame in frames.items():
                style, label = ROUTE_STYLES[k]
                overlays.append((frame, style, label if i == 0 else None))
        opened = res.vc.candidates[res.vc.candidates["site_id"].isin(res.vc.plan["open_site"])]
        overlays.append((opened, {"color": "#e6007e", "s": 160, "marker": "*", "edgecolor": "black"},
                         "開設する災害VC"))
        fig = static_map({k: lay[k] for k in ("boundaries", "hazards", "vc_sites") if k in lay},
                         title=f"{region.name}　災害VCの開設計画と主なルート（{hz}）", hazard=res.hazard,
                         overlays=overlays, **common)
        out.append(("vc", _png(fig), "開設する災害VC（★）と、各VCから最も負荷の大きい避難所への"
                                     "通常時（青）・災害時（赤破線）のルート"))
    if res.cross is not None and len(res.cross.flows):
        flows = res.cross.flows
        people = flows["people"].astype("Int64").to_numpy(float, na_value=1.0)  # 「k未満」: thinnest
        peak = float(people.max()) or 1.0
        overlays = [(flows.iloc[[i]], {"color": "#8e24aa", "linewidth": 1 + 6 * float(p) / peak},
                     "越境して近い要配慮者の流れ" if i == 0 else None)
                    for i, p in enumerate(people)]
        fig = static_map({"boundaries": lay["boundaries"]}, title=f"{region.name}　広域連携（越境の流れ）",
                         overlays=overlays, **common)
        what = ("地区（代替指標）の流れ（線の太さ＝地区数）" if res.cross.proxy
                else "要配慮者の流れ（線の太さ＝人数）")
        out.append(("cross", _png(fig), f"市町村境を越えた方が近い{what}"))
    if res.recommendation is not None:
        sites = res.recommendation.sites
        fig = static_map({k: lay[k] for k in ("boundaries", "places") if k in lay},
                         title=f"{region.name}　新しい居場所の提案", overlays=[
                             (sites, {"color": "#e6007e", "s": 160, "marker": "*", "edgecolor": "black"},
                              "提案する場所")], **common)
        out.append(("recommend", _png(fig), "新しい居場所の提案（★、既存の居場所は残す）"))
    return out


# ------------------------------------------------------------------ document


def _layer_title(region: RegionLike, key: str) -> str:
    """A layer as the report names it: 町字 points standing in for 自治会 say so."""
    frame = region.layers.get(key)
    if key == "neighbourhoods" and frame is not None and "estimated" in frame \
            and frame["estimated"].astype(bool).all():
        return "町字（自治会の代わりの推定区域）"
    return str(LAYER_LABELS.get(key, key))


def _sources(region: RegionLike) -> pd.DataFrame:
    """One row per file the region reads (the region file's and those added in the app): its
    layer, publisher, the data's own date, retrieval date, licence and features
    (:func:`layers.provenance.source_table`)."""
    labels = {**{k: _layer_title(region, k) for k in LAYER_LABELS}, "machiaza": "町字の参照点（住所の位置）",
              "roads": "道路", "transit": "公共交通（時刻表）", "projection": "将来推計人口"}
    return pd.DataFrame(source_table(region.sources, labels))


def _summary_boxes(res: RegionResults) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    dens = res.region.layers.get("vulnerable")
    if dens is not None:
        items.append(("要配慮者（匿名化後の合計）", f"{int(dens['count'].sum()):,} 人"))
    if res.coverage is not None:
        cov = res.coverage.summary()
        items += [("居場所の徒歩圏のカバー率", f"{cov.rate * 100:.1f} %"),
                  ("空白地帯", f"{len(res.gaps) if res.gaps is not None else 0} か所")]
    if res.shelter_tables is not None:
        t = res.shelter_tables.summary()
        items += [("指定緊急避難場所・指定避難所", f"{t.emergency_sites:,}・{t.shelters:,} か所"),
                  ("福祉避難所型（受入対象者あり）", f"{t.welfare_shelters:,} か所")]
    if res.shelters is not None and res.scenario is not None:
        load = res.shelters.summary()
        hz = HAZARD_LABELS.get(res.hazard, res.hazard)
        items += [(f"{hz}で使える避難所", f"{load.shelters_usable} か所"),
                  (f"{hz}で避難先に行けない人", f"{people_text(load.demand_unreachable)} 人"),
                  ("収容人数を超える避難所", f"{load.overloaded} か所")]
    if res.vc is not None:
        items.append(("開設する災害VC", "、".join(res.vc.summary().open)))
    if res.cross is not None:
        cb = res.cross.summary()
        if cb.proxy:  # areas standing in for people: never call them people
            items.append(("越境して近い地区（代替指標）", f"{people_text(cb.cross_any)} 地区"))
        else:
            items.append(("越境して近い要配慮者", f"{people_text(cb.cross_any)} 人"))
    if res.recommendation is not None:
        r = res.recommendation
        items.append((f"新しい居場所 {r.p} か所で", f"{people_gain(r.covered_before, r.covered_after)} 人"))
    return items


def _access_note(res: RegionResults) -> str:
    """How this report's distances joined the roads: the rule and the barriers used."""
    cov = res.coverage
    if cov is None or cov.method != "network":
        return ""
    rule = (f"半径 {cov.join_radius or 0:.0f} m 以内のどの道路からでも出られる方式（multi）"
            if cov.access == "multi" else "いちばん近い道路に出る方式")
    rule += "（既定）" if cov.access == DEFAULT_ACCESS else ""
    barriers = f"、障壁 {cov.barriers} 件" if cov.barriers else "、障壁データなし"
    return f"この報告書: {rule}{barriers}。"


def _shelters_section(res: RegionResults, figs: Mapping[str, str]) -> list[str]:
    """The shelters in the hazard and their load, then the chapter of their minimum needs."""
    if res.shelters is None:
        return []
    hz = HAZARD_LABELS.get(res.hazard, res.hazard)
    sh = pd.DataFrame(res.shelters.shelters.drop(columns="geometry"))
    return [f"<section><h2>{hz}のときの避難所と要配慮者</h2>", figs.get("shelters", ""),
            "<h3>避難所ごとの負荷（超過を先に）</h3>",
            table_html(sh, columns=["name", "status", "capacity", "demand", "load_ratio", "overloaded"],
                       note="収容人数の記載がない避難所は割り当て人数のみ。"),
            "".join(f"<p class='note'>{_esc(n)}</p>" for n in res.shelters.notes), "</section>",
            *_shelter_needs_section(res.shelter_needs, hz)]


def _shelter_needs_section(needs: ShelterNeeds | None, hz: str) -> list[str]:
    """避難所ごとの最低限の必要量: toilets, floor area and baths for the assigned evacuees."""
    if needs is None or not len(needs.table):
        return []
    t = japanese_table(needs)
    cols = ["名称", "種別", "避難者数", "うち要配慮者", "トイレ（発災当初）", "トイレ（その後）",
            "うち女性用", "入浴設備", "必要面積（m²）", "面積（m²）", "面積の根拠", "不足面積（m²）"]
    s = needs.summary()
    return [f"<section><h2>{hz}のときの避難所ごとの最低限の必要量（トイレ・面積・入浴）</h2>",
            f"<p>使える避難所 {s.shelters} か所に避難者 {s.evacuees:,} 人: "
            f"トイレは発災当初 {s.toilets_first:,} 基、その後 {s.toilets_later:,} 基、"
            f"入浴設備 {s.baths:,} か所が必要です。面積が足りない避難所は "
            f"{s.area_short} か所（面積が分からない避難所 {s.area_unknown} か所）。</p>",
            table_html(t, columns=cols, limit=40,
                       note="比率は避難所運営の指針などに基づく既定値です。地域の実情に合わせて変えられます。"),
            "".join(f"<p class='note'>{_esc(n)}</p>" for n in needs.notes), "</section>"]


def _shelter_table_section(tables: ShelterTables) -> list[str]:
    """避難所の指定状況: one row per 市町村, from public data; says what it rests on."""
    notes = "".join(f"<p class='note'>{_esc(n)}</p>" for n in tables.rests_on)
    return ["<section><h2>避難所の指定状況（市町村ごと）</h2>",
            "<h3>施設の種類・福祉避難所型・収容人数</h3>", table_html(tables.by_municipality), notes,
            "<h3>災害ごとに指定された指定緊急避難場所の数</h3>", table_html(tables.by_hazard),
            "<p class='note'>同じ施設が複数の災害に指定されていれば、それぞれの列に数えています。</p>",
            "</section>"]


def _method(res: RegionResults) -> str:
    """The method page: only what this region's report used (no roads, VC or shelters
    paragraph for a region without them)."""
    dens = res.region.layers.get("vulnerable")
    summ = dens.attrs.get("summary", {}) if dens is not None else {}
    roads = res.region.config.roads is not None
    lines = [
        ("距離は道路沿いの距離です。各地点はいちばん近い道路まで直線で歩き（道路に出る距離）、"
         "そこから道路沿いに進むものとします。川・水面・鉄道・高速道路など歩いて渡れない障壁を"
         "越える道路にはつながず、同じ側でいちばん近い道路を使います。歩行者が通れない道路"
         "（高速道路など）にはつなぎません。500 m 以内に道路がない地点は到達不可とします。"
         + _access_note(res)) if roads else
        f"この地域には道路データがないため、距離は直線距離×迂回率の推定です（「{ESTIMATE_LABEL}」と表示）。",
        f"歩く速さ: 一般 {SPEEDS_M_PER_MIN['walk']:.0f} m/分、高齢者 {SPEEDS_M_PER_MIN['elderly']:.0f} m/分。"
        + ("車は道路の種類ごとの速さ（幹線 50 km/h、生活道路 20 km/h など）。" if roads else ""),
        f"居場所の徒歩圏: {res.coverage.max_distance:.0f} m。" if res.coverage is not None else "",
        f"要配慮者の匿名化: {summ.get('geography', '')}、k = {summ.get('k', '')}。k 人未満の単位は"
        "隣接する単位に合算し、個人の位置・氏名・住所は使いません。表の人数は公開単位の合計です。"
        if summ else "要配慮者の密度はありません。",
        f"災害シナリオ（{HAZARD_LABELS.get(res.hazard, res.hazard)}）: "
        "国土地理院のデータでこの災害に指定され、かつ想定区域の外にある避難所だけを使用可とし、"
        + ("区域にかかる道路は通行止めとします。" if roads else "")
        + "福祉避難所は区域の外にあれば使用可とし、その需要は要介護・障害の全体の割合からの推定です。"
        if res.shelters is not None else "",
        "災害VC: 候補地ごとに市町村内の要配慮者までの道のり×人数の合計（人・km）で順位を付け、"
        "最適な候補地が使えない場合は同じ市町村の次の候補、なければ隣接市町村の候補を代替とします。"
        if res.vc is not None else "",
        "広域連携: 最寄りの使用可能な避難所・居場所が他の市町村にあり、自分の市町村の最寄りより"
        "近い要配慮者を数えます。要配慮者の密度がない地域では、町字・地区の数を代替指標として数え、"
        "表と図には「地区（代替指標）」と書きます（人数ではありません）。"
        if res.cross is not None else "",
        "避難所の指定状況: 国土地理院のデータにある指定（施設の種類、災害ごとの指定、受入対象者、"
        "収容人数）をそのまま市町村ごとに数えています。収容人数は記載のある施設だけの合計です。"
        if res.shelter_tables is not None else "",
        "データの出典とその日付（データ自体の日付。ファイルに日付がないものは表紙の表に「記載なし」）: "
        + "／".join(res.region.attribution()),
    ]
    return "".join(f"<p>{_esc(x)}</p>" for x in lines if x)


def report_html(res: RegionResults, *, date: _dt.date | None = None,
                progress: Callable[[float, str], None] | None = None) -> str:
    """The whole report as one self-contained HTML document."""
    region = res.region
    lay = {k: v for k, v in region.layers.items()}
    day = (date or _dt.date.today()).isoformat()
    attribution = region.attribution()
    if progress:
        progress(0.05, "地図を描いています")
    maps = _maps(res, lay)
    if progress:
        progress(0.8, "表を作っています")
    figs = {k: _fig_html(png, cap, attribution) for k, png, cap in maps}
    munis = municipality_names(lay.get("boundaries"))
    badge = '<p><span class="badge">架空データ（デモ地域）</span></p>' if region.fictional else ""
    parts = [
        '<section class="cover">',
        f"<h1>{_esc(region.name)}<br>地域福祉・防災 分析レポート</h1>{badge}",
        f"<p>作成日: {_esc(day)}　作成: ともにマップ　解析用座標系: {_esc(crs_label(region.crs))}</p>",
        "<h3>使用したデータ</h3>", table_html(_sources(region)),
        "<h3>出典</h3>", "".join(f"<p class='note'>{_esc(a)}</p>" for a in attribution),
        "<h3>概要</h3>", _boxes(_summary_boxes(res)),
        "".join(f"<p class='note'>{_esc(n)}</p>" for n in res.notes),
        "</section>",
        f"<section><h2>1. 地域のレイヤー{'と要配慮者の分布' if 'vulnerable' in lay else ''}</h2>",
        figs.get("overview", ""),
        figs.get("density", ""), "</section>",
    ]
    if res.shelter_tables is not None:
        parts += _shelter_table_section(res.shelter_tables)
    if res.coverage is not None:
        tab = res.coverage_table if res.coverage_table is not None else pd.DataFrame()
        parts += ["<section><h2>2. 居場所のカバー率と空白地帯</h2>", figs.get("coverage", ""),
                  "<h3>空白地帯（人数の多い順）</h3>",
                  table_html(pd.DataFrame(res.gaps.drop(columns="geometry")) if res.gaps is not None
                             else pd.DataFrame(), limit=20)]
        for layer, title in (("boundaries", "市町村ごと"), ("school_districts", "校区ごと"),
                             ("neighbourhoods", "自治会ごと")):
            part = tab[tab["area_layer"] == layer] if len(tab) else tab
            if len(part):
                parts += [f"<h3>{title}のカバー率</h3>",
                          table_html(part, columns=["area_name", "total", "covered", "uncovered",
                                                    "rate"])]  # names, not internal ids
        parts.append("</section>")
    parts += _shelters_section(res, figs)
    if res.vc is not None:
        rs = pd.DataFrame([{"ルート": f"{v['vc']} → {v['to']}", "距離(通常) m": v["normal"]["length_m"],
                            "距離(災害時) m": v["hazard"]["length_m"],
                            "迂回率": v["hazard"].get("detour_ratio"),
                            "回避した通行止め": v["hazard"].get("closed_edges_avoided")}
                           for v in res.route_summaries.values()])
        parts += ["<section><h2>4. 災害ボランティアセンターの計画と主なルート</h2>", figs.get("vc", ""),
                  "<h3>市町村ごとの開設計画</h3>",
                  table_html(res.vc.plan, columns=["muni_name", "people", "decision", "open_site",
                                                    "open_site_name", "person_km", "worst_unit_m",
                                                    "people_unreachable"]),
                  "<h3>主なルート（通常時と災害時）</h3>", table_html(rs), "</section>"]
    if res.cross is not None:
        partners, pairs = res.cross.display_tables()
        who = "地区（代替指標）" if res.cross.proxy else "要配慮者"
        parts += ["<section><h2>5. 広域連携</h2>", figs.get("cross", ""),
                  "".join(f"<p class='note'>{_esc(n)}</p>" for n in res.cross.notes),
                  "<h3>相互応援協定の相手の候補</h3>", table_html(partners, municipalities=munis),
                  f"<h3>越境して近い{who}（市町村の組）</h3>",
                  table_html(pairs, limit=30, municipalities=munis,
                             note="短縮(m): 自分の市町村のいちばん近い施設と比べて短くなる道のりの平均"
                                  "（公開単位の代表点で測った値）。「—」は、人数が少なく公開していない"
                                  "組など、平均を出せないものです。"),
                  "</section>"]
    if res.recommendation is not None:
        r = res.recommendation
        parts += ["<section><h2>6. 新しい居場所の提案</h2>", figs.get("recommend", ""),
                  table_html(pd.DataFrame(r.sites.drop(columns="geometry")),
                             columns=["rank", "candidate_id", "name", "newly_covered_people",
                                      "newly_covered_units"]),
                  "<h3>開く数と効果</h3>", table_html(r.curve), "</section>"]
    parts += [*_winter_section(res), *_transit_section(res), "<section><h2>方法</h2>", _method(res),
              "</section>"]
    return _page(f"{region.name} 分析レポート", _numbered("".join(parts)), attribution)


def _winter_section(res: RegionResults) -> list[str]:
    """「冬と将来」: the winter-loss map and tables, and coverage year by year."""
    w = res.winter
    if w is None:
        return []
    from geo.outputs.files.winter_loss import loss_map_png

    s = w.summary()
    attribution = res.region.attribution()
    parts = ["<section><h2>7. 冬と将来</h2>",
             f"<p>夏に高齢者の徒歩 {s.max_minutes or 0:.0f} 分以内で居場所に届く "
             f"{people_text(s.covered_summer)} 人のうち、"
             f"{_esc(s.season)}には {people_text(s.lost)} 人が届かなくなります（雪道の遅れ: 主要道路 +"
             f"{res.region.config.winter.penalty['elderly']['main']:g} 分/km、その他 +"
             f"{res.region.config.winter.penalty['elderly']['other']:g} 分/km、除雪優先路線は夏と同じ、"
             f"冬期閉鎖 {s.closed_segments:,} 区間）。</p>"]
    if w.shapes is not None and w.map_meta:
        parts.append(_fig_html(loss_map_png(w), "冬に居場所へ届かなくなる単位（赤）と冬期閉鎖の区間",
                               attribution))
    lost = w.by_place[w.by_place["people_lost"].fillna(1) > 0]
    if len(lost):
        parts += ["<h3>冬に届かなくなる人が多い居場所</h3>",
                  table_html(lost, columns=["place_id", "name", "people_summer", "people_winter",
                                            "people_lost"], limit=15)]
    if res.outlook is not None:
        parts += ["<h3>年ごとのカバー率（夏・冬）</h3>",
                  "<p>各年の需要は、匿名化済みの要配慮者を 500 m メッシュの65歳以上の将来推計の増減で"
                  "伸縮したもの。居場所と道路は今のまま。</p>",
                  table_html(res.outlook.by_year,
                             columns=["year", "season", "total", "covered", "rate", "gaps"]),
                  *_last_places_html(res)]
    if res.over_time is not None:
        o = res.over_time
        parts += [f"<h3>年をまたいで効く新しい居場所（{o.p} か所、いちばん悪い年を最大に）</h3>",
                  "<p>今年だけを見て選んだ場所と、各年に新たに徒歩圏に入る人を比べます。</p>",
                  table_html(o.sites, columns=["candidate_id", "name", "near", "gain_first_year"]),
                  table_html(o.by_year, columns=["year", "gain", "gain_today_only"])]
    parts += ["".join(f"<p class='note'>{_esc(n)}</p>" for n in w.notes), "</section>"]
    return parts


def _transit_section(res: RegionResults) -> list[str]:
    """「車がなくても」: who reaches a 居場所 by walking + bus on a weekday morning."""
    run = res.transit
    if run is None:
        return []
    from geo.outputs.files.transit import transit_figure

    region = res.region
    s = run.summary()
    when = f"{s['date']}（{'月火水木金土日'[run.result.day.date.weekday()]}）{s['window']}"
    title = f"{region.name}　{run.destination_label}まで徒歩＋バス"
    fig = transit_figure(run, region.layers["vulnerable"], region.layers.get("boundaries"), crs=region.crs,
                         title=title, fictional=region.fictional, attribution=region.attribution())
    nb = run.by_area[run.by_area["area_layer"] == "neighbourhoods"]
    parts = ["<section><h2>車がなくても: 徒歩とコミュニティバスで居場所へ</h2>",
             f"<p>{_esc(when)} に家を出て、高齢者の徒歩（{SPEEDS_M_PER_MIN[run.profile]:.0f} m/分、"
             f"{_esc(run.season.label)}の道）とバス・デマンド交通で {s['max_minutes']:.0f} 分以内に"
             f"{_esc(run.destination_label)}へ届く人は {people_text(s['covered'])} 人"
             f"{_rate_text(s['rate'])}。"
             f"徒歩だけなら {people_text(s['covered_walk'])} 人で、"
             f"バスで {people_text(s['gained'])} 人増えます。"
             f"休日（{_esc(str(s.get('weekend_date') or ''))}）には "
             f"{people_text(s.get('lost_weekend', 0))} 人、"
             f"冬の道では {people_text(s.get('lost_winter', 0))} 人が届かなくなります。</p>",
             _fig_html(_png(fig), "徒歩＋バスの所要時間（時間帯のうち最短）、"
                       "路線（停留所を結んだ線）と空白地帯", region.attribution()),
             "<h3>路線ごとの利用者候補</h3>",
             table_html(run.routes, columns=["route_name", "trips", "stops", "in_reach", "reach_bus",
                                             "gained_bus"]),
             "<h3>届かない人が多い自治会</h3>",
             table_html(nb, columns=["area_name", "total", "reach_walk", "reach_bus", "lost_weekend",
                                     "lost_winter", "unreached", "rate_bus"], limit=15)]
    if run.new_stops is not None and len(run.new_stops):
        parts += ["<h3>停留所を 1 つ増やすなら（全体を計算し直した効果）</h3>",
                  table_html(run.new_stops, columns=["route_id", "between", "nearby", "gained"], limit=5)]
    if run.extra_trips is not None and len(run.extra_trips):
        parts += ["<h3>便を 1 本増やすなら</h3>",
                  table_html(run.extra_trips, columns=["route_id", "from", "to", "departure", "gained",
                                                       "faster", "minutes_saved"])]
    parts += ["".join(f"<p class='note'>{_esc(n)}</p>" for n in run.notes),
              "<p class='note'>所要時間は家を出てから着くまで（停留所での待ちを含む）。"
              "時間帯のどこかで一度でもしきい値以内に着ければ「届く」とし、中央値も表に出します。</p>",
              "</section>"]
    return parts


def _last_places_html(res: RegionResults) -> list[str]:
    """The 自治会 whose every 居場所 has fewer people within reach than the threshold."""
    o = res.outlook
    if o is None or not len(o.last_places):
        return []
    last = o.last_places[(o.last_places["year"] == o.last_places["year"].max())
                         & o.last_places["lost_last_place"].astype(bool)]
    last = last.sort_values(["newly_lost", "season", "area_id"], ascending=[False, False, True])
    first = int(o.last_places["year"].min())
    return [f"<h3>{int(o.last_places['year'].max())} 年に居場所がすべて基準割れになる自治会"
            f"（徒歩圏の人 {o.min_people:g} 人未満）</h3>",
            f"<p>新たに: {first} 年にはまだ基準以上の居場所があった自治会。</p>",
            table_html(last, limit=30, columns=["season", "area_id", "area_name", "places", "people_best",
                                                "newly_lost"])]


def _numbered(body: str) -> str:
    """Number the report's sections 1, 2, 3 … in the order they appear (a region without a
    layer skips a section; the numbers must not jump)."""
    count = iter(range(1, 100))
    return re.sub(r"<section><h2>(?:\d+\. )?(?!方法)", lambda _m: f"<section><h2>{next(count)}. ", body)


def _page(title: str, body: str, attribution: Sequence[str]) -> str:
    # a CSS string inside <style>: no quote, backslash, angle bracket (</style>) or line break
    # (a credit can carry a GTFS feed's publisher name, text from outside)
    footer = re.sub(r"[\x00-\x1f\x7f]", " ", " ／ ".join(attribution)[:160])
    footer = footer.replace('"', "'").replace("\\", "").replace("<", "＜").replace(">", "＞")
    template = Template(TEMPLATE.read_text("utf-8"), autoescape=False)
    return template.render(title=_esc(title), body=body, footer=footer)


# ------------------------------------------------------------------ per-area sheets


def area_sheets_html(res: RegionResults, *, layer: str = "neighbourhoods",
                     progress: Callable[[float, str], None] | None = None) -> str:
    """One page per 自治会 (or 校区) with its map and figures."""
    region = res.region
    lay = region.layers
    if layer not in lay:
        from layers.errors import ParameterError

        raise ParameterError(f"この地域には {LAYER_LABELS.get(layer, layer)} のレイヤーがありません。",
                         parameter="sheets", fix="neighbourhoods か school_districts を指定してください。")
    areas = lay[layer]
    if layer == "school_districts" and "period" in areas:
        areas = areas[areas["period"].astype(str) == current_period(areas)]
    id_col = str(LAYERS[layer].id_column)
    table = res.coverage_table
    figures = table[table["area_layer"] == layer].set_index("area_id") if table is not None and len(table) \
        else pd.DataFrame()
    metric = areas.to_crs(region.crs)
    shel = lay.get("shelters")
    shel_m = shel.to_crs(region.crs) if shel is not None else None
    places_m = lay["places"].to_crs(region.crs) if "places" in lay else None
    pages = []
    attribution = region.attribution()
    for n, (aid, name, geom) in enumerate(zip(areas[id_col].astype(str), areas["name"].astype(str),
                                             metric.geometry, strict=True)):
        if progress and n % 10 == 0:
            progress(n / max(len(areas), 1), f"{name}")
        x0, y0, x1, y1 = geom.bounds
        pad = max(x1 - x0, y1 - y0) * 0.25 + 200
        extent = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
        outline = gpd.GeoDataFrame(geometry=[geom], crs=region.crs)
        shown: dict[str, gpd.GeoDataFrame] = {k: lay[k] for k in ("vulnerable", "places", "shelters")
                                              if k in lay}
        fig = static_map(shown, crs=region.crs, title=f"{name}", paper="A4-portrait", hazard=res.hazard,
                         fictional=region.fictional, attribution=attribution, extent=extent,
                         overlays=[(outline.boundary.to_frame("geometry"),
                                    {"color": "#d62728", "linewidth": 2.2}, "この区域")])
        png = map_bytes(fig, fmt="png", dpi=110)
        plt.close(fig)
        items: list[tuple[str, str]] = []
        if aid in figures.index:
            f = figures.loc[aid]
            rate = float(f["rate"]) if pd.notna(f["rate"]) else float("nan")
            items += [("要配慮者", f"{people_text(f['total'])} 人"),
                      ("居場所の徒歩圏内", f"{people_text(f['covered'])} 人"),
                      ("カバー率", f"{rate * 100:.0f} %" if rate == rate else "—")]
        inside = shapely.contains(geom, shapely.points(shel_m.geometry.x, shel_m.geometry.y)) \
            if shel_m is not None else np.zeros(0, bool)
        if shel_m is not None:
            items.append(("区域内の避難所", f"{int(inside.sum())} か所"))
        if places_m is not None:
            near = places_m.distance(geom).to_numpy()
            items.append(("最寄りの居場所まで（直線）", f"{near.min():,.0f} m" if len(near) else "—"))
        names = ", ".join(shel_m[inside]["name"].astype(str).head(6)) if shel_m is not None else ""
        if shel_m is not None and inside.sum() > 6:
            names += f" ほか {int(inside.sum()) - 6} か所"
        pages.append(f'<div class="sheet"><h2>{_esc(name)}（{_esc(aid)}）</h2>{_boxes(items)}'
                     f'<figure><img src="{_img(png)}" style="max-height:165mm"><figcaption>'
                     f'{_esc(name)}の範囲（赤線）、要配慮者の密度（匿名化済み）、居場所、避難所　出典: '
                     f'{_esc(" ／ ".join(attribution))}</figcaption></figure>'
                     + (f'<p class="note">区域内の避難所: {_esc(names)}</p>' if names else "")
                     + "</div>")
    return _page(f"{region.name} {LAYER_LABELS.get(layer, layer)}別シート", "".join(pages), attribution)


# ------------------------------------------------------------------ writing


def write_pdf(html_text: str, out: Path) -> Path:
    """Lay out the HTML with WeasyPrint into a PDF, atomically."""
    with atomic_path(out) as tmp:
        _pdf(html_text, tmp, base=out.parent)
    return out


def _pdf(html_text: str, path: Path, *, base: Path) -> None:
    from weasyprint import HTML

    HTML(string=html_text, base_url=str(base)).write_pdf(path)


def write_report(res: RegionResults, out: Path, *, formats: Sequence[str] = ("pdf", "html"),
                 sheets: str | None = None, date: _dt.date | None = None,
                 progress: Callable[[float, str], None] | None = None) -> list[Path]:
    """``report.pdf``/``report.html`` (and ``sheets_{layer}.pdf``) in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    text = report_html(res, date=date, progress=progress)
    parts: list[tuple[Path, Callable[[Path], object]]] = []
    if "html" in formats:
        parts.append((out / "report.html", lambda p: p.write_text(text, encoding="utf-8")))
    if "pdf" in formats:
        parts.append((out / "report.pdf", lambda p: _pdf(text, p, base=out)))
    if sheets:
        sheet_html = area_sheets_html(res, layer=sheets, progress=progress)
        parts.append((out / f"sheets_{sheets}.pdf", lambda p: _pdf(sheet_html, p, base=out)))
    if progress:
        progress(0.9, "PDF をレイアウトしています")
    # all files or none: an interrupted run never leaves report.html without report.pdf
    with atomic_paths([target for target, _ in parts]) as tmps:
        for tmp, (_, write) in zip(tmps, parts, strict=True):
            write(tmp)
    return [target for target, _ in parts]


def _rate_text(rate: object) -> str:
    """「（12.3 %）」, or nothing when the share is hidden (a 「k未満」 count)."""
    return f"（{float(rate) * 100:.1f} %）" if isinstance(rate, int | float) else ""  # type: ignore[arg-type]
