"""The ``tomoni`` argument parser: one ``_add_*`` per command, defaults from the engine's profiles.
"""

from __future__ import annotations

import argparse
from typing import Any

from geo.cli.analysis import (
    cmd_consolidation,
    cmd_coverage,
    cmd_crossborder,
    cmd_outlook,
    cmd_recommend,
    cmd_transit,
)
from geo.cli.args import number
from geo.cli.batch import cmd_batch
from geo.cli.check import cmd_check
from geo.cli.data import cmd_anonymize, cmd_export, cmd_geocode, cmd_map, cmd_report
from geo.cli.demo import cmd_demo
from geo.cli.disaster import cmd_dispatch, cmd_route, cmd_shelter_needs, cmd_shelters, cmd_vc_plan
from geo.cli.fetch import cmd_init
from geo.cli.roads import cmd_roads
from geo.cli.serve import cmd_serve, cmd_user_add
from geo.engine.profiles import (
    ACCESS_RULES,
    DEFAULT_ACCESS,
    DEFAULT_MAX_DISTANCE,
    DEFAULT_PROFILE,
    ROUTE_PROFILES,
    WALK_PROFILES,
)
from layers.hazard_kinds import DEFAULT_HAZARD
from layers.layer_facts import AREA_KEYS

__all__ = ["build_parser"]


def _force(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help="出力先が既にあれば置き換える（書き終わってから）")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tomoni",
        description="ともにマップ: 社協のための地域福祉・防災の地図と分析",
    )
    parser.add_argument("--debug", action="store_true", help="内部エラーの詳細（トレースバック）を表示")
    parser.add_argument("-v", "--verbose", action="store_true", help="進行状況を表示")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_init(sub)
    _add_check(sub)
    _add_roads(sub)
    _add_demo(sub)
    _add_map(sub)
    _add_anonymize(sub)
    _add_geocode(sub)
    _add_coverage(sub)
    _add_outlook(sub)
    _add_consolidation(sub)
    _add_shelters(sub)
    _add_route(sub)
    _add_vc_plan(sub)
    _add_dispatch(sub)
    _add_shelter_needs(sub)
    _add_transit(sub)
    _add_crossborder(sub)
    _add_recommend(sub)
    _add_report(sub)
    _add_export(sub)
    _add_serve(sub)
    _add_user_add(sub)
    _add_batch(sub)
    return parser


def _add_init(sub: Any) -> None:
    """``tomoni init``."""
    p = sub.add_parser("init", help="市町村の公開データ（N03・国土地理院の避難所・町字）を取得して地域を作る"
                                    "（一度だけ。以後はオフラインで使える）")
    p.add_argument("municipality", help="市町村名（例: 潟上市、南秋田郡五城目町）か5桁の市町村コード")
    p.add_argument("--pref", required=True, help="都道府県（例: 秋田県 または 05）")
    p.add_argument("--out", required=True, help="地域のフォルダ（region.toml とデータを書く）")
    p.add_argument("--n03-year", type=int, default=None,
                   help="国土数値情報 N03 の年（既定 2024、または TOMONI_N03_YEAR）")
    p.add_argument("--roads", action="store_true", help="道路も OpenStreetMap（Overpass）から取得する")
    p.set_defaults(func=cmd_init)


def _add_roads(sub: Any) -> None:
    """``tomoni roads``."""
    p = sub.add_parser("roads", help="OSM の抽出ファイルから地域の道路ネットワークを作る"
                                     "（一度だけ、キャッシュへ）")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--from", dest="source", metavar="FILE.osm.pbf",
                       help="OSM の抽出ファイル（.osm.pbf / .osm / .osm.bz2。既定: [roads] path）")
    where.add_argument("--download", action="store_true",
                       help="インターネットから地域の道路をダウンロードする"
                       "（Overpass。地域の roads/ に保存）")
    p.add_argument("--network", choices=["walk", "drive"],
                   help="徒歩（walk）か車（drive）。既定: [roads] network")
    p.add_argument("--buffer", type=number(0, 50_000), metavar="M",
                   help="市町村界の外に残す道路の幅（m、既定: [roads] buffer か 3000）")
    p.add_argument("--write", action="store_true", help="地域設定の [roads] をこのファイルに書き換える")
    p.add_argument("--rebuild", action="store_true",
                   help="このファイルのキャッシュを消して作り直す"
                   "（キャッシュの上限: TOMONI_CACHE_MB、既定 8192）")
    p.set_defaults(func=cmd_roads)


def _add_check(sub: Any) -> None:
    """``tomoni check``."""
    p = sub.add_parser("check", help="地域設定（TOML）のすべてのレイヤーを読み込んで検査する")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--json", action="store_true", help="結果を JSON で出力")
    p.add_argument("--no-roads", action="store_true", help="道路ネットワークを読み込まない")
    p.add_argument("--date", help="公共交通（GTFS）の便を数える日（例: 2027-01-14、既定: 今日）")
    p.set_defaults(func=cmd_check)


def _add_demo(sub: Any) -> None:
    """``tomoni demo``."""
    p = sub.add_parser("demo", help="架空のデモ地域を作り（なければ）、今ある分析をすべて実行する")
    p.add_argument("--out", default="tomoni-demo", help="デモ地域を書き出すフォルダ")
    p.add_argument("--force", action="store_true", help="既にあっても作り直す")
    p.add_argument("--json", action="store_true", help="結果を JSON で出力")
    p.set_defaults(func=cmd_demo)


def _add_map(sub: Any) -> None:
    """``tomoni map``."""
    p = sub.add_parser("map", help="地図画像（PNG/SVG/PDF）またはオフラインで開ける HTML 地図を書き出す")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--out", required=True, help="出力ファイル（拡張子で形式: .png .svg .pdf .html）")
    _force(p)
    p.add_argument("--layers", help="描くレイヤー（カンマ区切り、例: shelters,boundaries）")
    p.add_argument("--title", help="地図のタイトル（既定: 地域名）")
    p.add_argument("--paper", default="A4-landscape",
                   help="用紙: A4-landscape / A4-portrait / A3-landscape / A3-portrait")
    p.add_argument("--dpi", type=number(72, 1200, integer=True), default=300,
                   help="PNG の解像度（72〜1200、既定 300）")
    p.add_argument("--hazard", default=DEFAULT_HAZARD,
                   help=f"避難所を色分けする災害（既定 {DEFAULT_HAZARD}）")
    p.set_defaults(func=cmd_map)


def _add_anonymize(sub: Any) -> None:
    """``tomoni anonymize``."""
    p = sub.add_parser("anonymize", aliases=["anonymise"],
                       help="要配慮者の名簿を、個人を特定できない密度（k人以上の単位）に集計する")
    p.add_argument("records", help="名簿（CSV・Excel、緯度・経度か住所の列）またはメッシュ別人数・"
                   "e-Stat メッシュ統計。住所だけの名簿は --region の [geocoder] で位置を求めます")
    p.add_argument("--sheet", help="Excel のシート名（既定: データのある最初のシート）")
    p.add_argument("--out", required=True, help="出力（.gpkg / .geojson / .csv）")
    _force(p)
    p.add_argument("--mesh", type=int, default=500, choices=[1000, 500, 250],
                   help="メッシュの大きさ（m、既定 500）")
    p.add_argument("--k", type=number(3, 1000, integer=True), default=5,
                   help="公開する単位の最小人数（既定 5、3 以上）")
    p.add_argument("--by", choices=AREA_KEYS,
                   help="メッシュの代わりに地域設定の区域（自治会・校区・市町村）で集計")
    p.add_argument("--region", help="地域設定（区域外の記録を除く・--by の区域）")
    p.add_argument("--kind", default="auto",
                   choices=["auto", "records", "mesh_counts", "area_counts", "estat", "ksj_forecast"])
    p.add_argument("--encoding", help="文字コード（既定: 自動判別）")
    p.set_defaults(func=cmd_anonymize)


def _add_geocode(sub: Any) -> None:
    """``tomoni geocode``."""
    p = sub.add_parser("geocode",
                       help="居場所・候補地などの一覧（CSV/Excel）の住所から緯度・経度を求める（オフライン）")
    p.add_argument("records", metavar="LIST",
                   help="住所のある一覧（CSV、.xlsx、.xls）。名簿は受け付けません")
    p.add_argument("--out", required=True,
                   help="出力 CSV（元の列＋緯度・経度・match_level・remainder・注意）")
    _force(p)
    p.add_argument("--region", help="[geocoder] のある地域設定（TOML）")
    p.add_argument("--reference", help='町字の参照点（例: "machiaza/*.json"）')
    p.add_argument("--blocks", help="位置参照情報（街区レベル）の CSV（任意）")
    p.add_argument("--address", help="住所の列名（既定: 住所・所在地）")
    p.add_argument("--municipality", help="市町村の列名（住所に市町村名がないとき）")
    p.add_argument("--sheet", help="Excel のシート名（既定: データのある最初のシート）")
    p.add_argument("--encoding", help="文字コード（既定: 自動判別）")
    p.set_defaults(func=cmd_geocode)


def _add_coverage(sub: Any) -> None:
    """``tomoni coverage``."""
    p = sub.add_parser("coverage", help="要配慮者の単位ごとに、最寄りの施設までの道のりと空白地帯を求める")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--facilities", default="places", choices=["places", "shelters", "vc_sites"],
                   help="施設のレイヤー（既定 places＝居場所）")
    p.add_argument("--max-distance", type=number(0, 100_000, above=True), default=DEFAULT_MAX_DISTANCE,
                   help="徒歩圏のしきい値 m（既定 500）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.add_argument("--straight-line", action="store_true",
                   help="道路を使わず直線距離×迂回率で推定する")
    p.add_argument("--access", default=DEFAULT_ACCESS, choices=ACCESS_RULES,
                   help="道路への出方: nearest＝いちばん近い道路（既定）、multi＝半径内のどの道路からでも")
    p.add_argument("--join-radius", type=number(0, 5_000, above=True), default=150.0,
                   help="--access multi の半径 m（既定 150）")
    _season_args(p)
    p.set_defaults(func=cmd_coverage)


def _season_args(p: argparse.ArgumentParser, *, season: bool = True) -> None:
    """``--season``, ``--date``, ``--profile``, ``--max-minutes``."""
    if season:
        p.add_argument("--season", choices=["summer", "winter"],
                       help="季節（winter: 雪道の遅れと冬期閉鎖。既定 summer、--date が12〜3月なら winter）")
    p.add_argument("--date", help="日付 YYYY-MM-DD（その日に閉鎖中の冬期閉鎖区間を使う）")
    p.add_argument("--profile", default=DEFAULT_PROFILE, choices=WALK_PROFILES,
                   help="歩く人（walk 80 m/分、elderly 50 m/分。--max-minutes と冬の遅れに使う）")
    p.add_argument("--max-minutes", type=number(0, 600, above=True),
                   help="徒歩圏のしきい値を分で（--max-distance の代わり。冬は遅くなる）")


def _closure_season_args(p: argparse.ArgumentParser, *, slowed: bool = False) -> None:
    """``--season`` and ``--date`` where a threshold is in metres or the trip is by car."""
    what = ("雪道の遅れ（徒歩）と、その日の冬期閉鎖区間の通行止め" if slowed
            else "その日の冬期閉鎖区間も通行止めにする")
    p.add_argument("--season", choices=["summer", "winter"],
                   help=f"winter: {what}（--date、12〜3月なら自動で winter）")
    p.add_argument("--date", help="日付 YYYY-MM-DD")


def _add_outlook(sub: Any) -> None:
    """``tomoni outlook``."""
    p = sub.add_parser("outlook", help="冬に届かなくなる人: 夏と冬の徒歩圏を比べる（居場所・自治会ごと）")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--season", default="winter", choices=["winter"], help="比べる季節（winter）")
    p.add_argument("--facilities", default="places", choices=["places", "shelters", "vc_sites"],
                   help="施設のレイヤー（既定 places＝居場所）")
    p.add_argument("--max-distance", type=number(0, 100_000, above=True), default=DEFAULT_MAX_DISTANCE,
                   help="徒歩圏のしきい値 m（既定 500。冬は通行止めだけが効く）")
    _season_args(p, season=False)
    p.add_argument("--years", help="将来推計の年（例 2025,2035,2050）: 年ごとのカバー率（夏・冬）も書く")
    p.add_argument("--min-people", type=number(0, 100_000), default=10.0,
                   help="居場所の徒歩圏の人がこの数を下回ると「基準割れ」（既定 10）。"
                   "自治会の居場所がすべて基準割れになる年を示す")
    p.add_argument("--demand", default="register", choices=["register", "65+", "75+"],
                   help="需要: register＝匿名化済みの要配慮者（年ごとは65歳以上の増減で伸縮。既定）、"
                   "65+ / 75+＝将来推計の人数そのもの（名簿のない地域でも使える。冬の比較は今に近い推計年）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_outlook)


def _add_consolidation(sub: Any) -> None:
    """``tomoni consolidation``."""
    p = sub.add_parser("consolidation", help="校区の再編前後で、要配慮者の単位から学校までの道のりを比べる")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--before", required=True, help="再編前の時点（校区レイヤーの periods、例 before）")
    p.add_argument("--after", required=True, help="再編後の時点（例 after）")
    p.add_argument("--threshold", type=number(0, 100_000, above=True), default=4000.0,
                   help="通学距離のしきい値 m（既定 4000、小学校の目安）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_consolidation)


def _add_shelters(sub: Any) -> None:
    """``tomoni shelters``."""
    p = sub.add_parser("shelters", help="災害ごとに使える避難所へ要配慮者を割り当て、収容人数と比べる")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--hazard", required=True,
                   help="災害の種類（flood / landslide / tsunami … または 洪水 など）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.add_argument("--catchment", type=number(0, 100_000, above=True), default=2000.0,
                   help="2SFCA の圏域 m（既定 2000）")
    p.add_argument("--shallow-factor", type=number(1, 100),
                   help="浸水深ランク1の道路を通行止めにせず、距離をこの倍数で数える（例 2）")
    _closure_season_args(p)
    p.add_argument("--year", type=number(2000, 2100, integer=True),
                   help="将来推計の年（地域設定の [projection]）: その年の需要で計算する")
    p.add_argument("--demand", default="register", choices=["register", "65+", "75+"],
                   help="--year の需要（既定 register＝匿名化済みの要配慮者を65歳以上の増減で伸縮）")
    p.set_defaults(func=cmd_shelters)


def _add_route(sub: Any) -> None:
    """``tomoni route``."""
    p = sub.add_parser("route",
                       help="2 地点間のルート（通常時と災害時を比べる）、または 1 地点から全避難所へ")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--from", dest="from_", required=True, help="出発地: 経度,緯度 または施設のID（例 VC01）")
    p.add_argument("--to", help="目的地: 経度,緯度 または施設のID")
    p.add_argument("--to-all", choices=["shelters", "places", "vc_sites", "gaps"],
                   help="出発地からこのレイヤーのすべての地点（gaps: 居場所の空白地帯の中心）へのルート")
    p.add_argument("--hazard", help="災害の種類（指定すると通行止めを避けたルートも求める）")
    p.add_argument("--profile", default=DEFAULT_PROFILE, choices=ROUTE_PROFILES,
                   help="移動の手段（既定 walk。drive は地域設定の車道ネットワーク）")
    p.add_argument("--shallow-factor", type=number(1, 100),
                   help="浸水深ランク1の道路の距離の倍数（既定: 通行止め）")
    _closure_season_args(p, slowed=True)
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_route)


def _add_vc_plan(sub: Any) -> None:
    """``tomoni vc-plan``."""
    p = sub.add_parser("vc-plan", help="災害VCの候補地を順位付けし、市町村ごとの開設場所と担当区域を決める")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--hazard", required=True, help="災害の種類")
    p.add_argument("--p", type=number(1, 1000, integer=True),
                   help="p-median で選ぶ候補地の数（既定: 市町村の数）")
    p.add_argument("--shallow-factor", type=number(1, 100),
                   help="浸水深ランク1の道路の距離の倍数（既定: 通行止め）")
    _closure_season_args(p)
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_vc_plan)


def _add_dispatch(sub: Any) -> None:
    """``tomoni dispatch``."""
    p = sub.add_parser("dispatch",
                       help="災害VC: ニーズを班に割り当て、班ごとの訪問順とルートを作る（班票 PDF・GPX）")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--needs", required=True,
                   help="ニーズ票（CSV/Excel: 受付番号、住所または緯度・経度、作業内容、"
                   "必要人数、必要資機材、希望時間帯、優先度、要配慮者）")
    p.add_argument("--teams", required=True, help="班の一覧（CSV/Excel: 班名、人数、車両、資機材、活動時間）")
    p.add_argument("--vc", help="開設する災害VCの候補地ID"
                   "（既定: 想定区域外の候補地のうち、ニーズに平均して最も近いもの）")
    p.add_argument("--hazard", help="災害の種類（通行止めの道路を避ける）")
    p.add_argument("--sheet", help="ニーズ票の Excel シート名")
    p.add_argument("--time-limit", type=number(0.1, 3600), default=5.0,
                   help="ソルバーの制限時間（秒、既定 5）")
    p.add_argument("--drive-kmh", type=number(1, 120), default=20.0, help="車の班の速さ（km/時、既定 20）")
    p.add_argument("--walk-speed", type=number(10, 200), default=60.0,
                   help="徒歩の班の速さ（m/分、資機材を持って。既定 60）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_dispatch)


def _add_shelter_needs(sub: Any) -> None:
    """``tomoni shelter-needs``."""
    p = sub.add_parser("shelter-needs",
                       help="避難所ごとの最低限の必要量（トイレ・面積・入浴）を避難者数から求める")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--hazard", required=True, help="災害の種類")
    p.add_argument("--demand", default=None, choices=["register", "65+", "75+", "total"],
                   help="避難者として数える人（既定: 将来推計があれば全住民 total、"
                        "なければ要配慮者の名簿 register）")
    p.add_argument("--ratios", help="比率の表（CSV/Excel: 項目、値）。既定はガイドライン（2024年12月）の比率")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_shelter_needs)


def _add_transit(sub: Any) -> None:
    """``tomoni transit``."""
    p = sub.add_parser("transit",
                       help="徒歩＋コミュニティバス（GTFS-JP）で、決めた分数以内に施設へ届く人を求める")
    p.add_argument("region", help="地域設定ファイル（REGION.toml、[layers.transit] に GTFS の zip）")
    p.add_argument("--to", default="places",
                   help="行き先: places（居場所、既定）・shelters・vc_sites、または施設の一覧ファイル"
                   "（CSV/Excel/GeoJSON: 名称と緯度・経度か住所。診療所・スーパーなど）")
    p.add_argument("--date", help="時刻表の日（YYYY-MM-DD、既定: 次の平日。12〜3月は冬の道）")
    p.add_argument("--window", default="08:00-12:00", help="家を出る時間帯（既定 08:00-12:00）")
    p.add_argument("--max-minutes", type=number(0, 600, above=True), default=45.0,
                   help="家から施設までのしきい値（分、既定 45）")
    p.add_argument("--profile", default="elderly", choices=WALK_PROFILES,
                   help="歩く人（elderly 50 m/分＝既定、walk 80 m/分）")
    p.add_argument("--season", choices=["summer", "winter"], help="季節（既定: 日付で決める）")
    p.add_argument("--max-walk", type=number(0, 60), default=10.0,
                   help="停留所まで・停留所から歩く最大の分数（既定 10）")
    p.add_argument("--transfer-walk", type=number(0, 30), default=5.0,
                   help="乗り換えで歩く最大の分数（既定 5）")
    p.add_argument("--max-trips", type=int, default=3, choices=range(1, 7), metavar="1-6",
                   help="1 回の移動で乗る便の数の上限（既定 3＝乗り換え 2 回まで）")
    p.add_argument("--flex-wait", type=number(0, 600),
                   help="デマンド交通の待ち時間（分、既定: 予約ルールのとおり、なければ 30）")
    p.add_argument("--rule", default="trip", choices=["trip", "median"],
                   help="届くの判定: trip＝時間帯のどこかで一度でも（既定）、median＝出発時刻の中央値で")
    p.add_argument("--compare-date", help="比べる休日（既定: 次の日曜）")
    p.add_argument("--no-compare", action="store_true", help="休日と季節の比較をしない")
    p.add_argument("--what-if", action="store_true", help="停留所を 1 つ、便を 1 本増やしたときの効果も試す")
    p.add_argument("--demand", default="register", choices=["register", "65+", "75+"],
                   help="数える人（既定: 要配慮者の名簿）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_transit)


def _add_crossborder(sub: Any) -> None:
    """``tomoni crossborder``."""
    p = sub.add_parser("crossborder", help="市町村境を越えた方が近い要配慮者と、広域連携の相手を求める")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--hazard", help="災害の種類（指定するとその災害で使える避難所・道路で計算）")
    p.add_argument("--straight-line", action="store_true", help="道路を使わず直線距離×迂回率で推定する")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_crossborder)


def _add_recommend(sub: Any) -> None:
    """``tomoni recommend``."""
    p = sub.add_parser("recommend", help="新しい居場所をどこに開くとよいか（最大被覆問題、既存の場所は残す）")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--facilities", default="places", choices=["places", "shelters", "vc_sites"],
                   help="今ある施設のレイヤー（既定 places＝居場所）")
    p.add_argument("--candidates", required=True,
                   help="候補地: ファイル（CSV/GeoJSON…）か places / shelters / vc_sites / "
                   "closed_schools（再編で閉じる学校）/ gap_nodes（空白地帯の道路ノード）/ gap_units")
    p.add_argument("--p", type=number(1, 10_000, integer=True), default=3, help="新しく開く数（既定 3）")
    p.add_argument("--max-distance", type=number(0, 100_000, above=True), default=DEFAULT_MAX_DISTANCE,
                   help="徒歩圏のしきい値 m（既定 500）")
    p.add_argument("--capacity", help="候補地の容量の列（指定すると容量つきのモデル）")
    p.add_argument("--target", type=number(0, 1, above=True),
                   help="目標カバー率（0〜1）。指定すると、届くまでに必要な最少の数を求める")
    p.add_argument("--outside-hazard", help="この災害の区域の外の候補地だけを使う（例 flood）")
    p.add_argument("--curve-to", type=number(1, 10_000, integer=True),
                   help="効果の曲線を何か所まで求めるか（既定 --p）")
    p.add_argument("--time-limit", type=number(0, 3600, above=True), default=30.0,
                   help="最適化の時間の上限 秒（既定 30）")
    p.add_argument("--straight-line", action="store_true", help="道路を使わず直線距離×迂回率で推定する")
    p.add_argument("--season", choices=["summer", "winter"],
                   help="winter: しきい値を徒歩の時間（80 m/分）として雪道で遅くし、"
                   "冬期閉鎖区間を通行止めにする")
    p.add_argument("--date", help="日付 YYYY-MM-DD（その日に閉鎖中の冬期閉鎖区間）")
    p.add_argument("--year", type=number(2000, 2100, integer=True),
                   help="将来推計の年: その年の需要（匿名化済みの要配慮者を65歳以上の増減で伸縮）で選ぶ")
    p.add_argument("--years", help="将来推計の年（例 2025,2035,2050）: 年をまたいで効く場所も求める")
    p.add_argument("--objective", default="worst", choices=["worst", "sum"],
                   help="--years の目的: worst＝いちばん悪い年を最大に（既定）、sum＝年の重み付き和")
    p.add_argument("--weights", help="--objective sum の年ごとの重み（例 1,1,2。既定: 同じ重み）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.set_defaults(func=cmd_recommend)


def _add_report(sub: Any) -> None:
    """``tomoni report``."""
    p = sub.add_parser("report", help="地域の分析レポート（A4 の PDF と HTML）と自治会・校区別シートを作る")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.add_argument("--format", default="pdf,html", help="pdf,html（既定）/ pdf / html")
    p.add_argument("--hazard", default=DEFAULT_HAZARD,
                   help=f"避難所と災害VCの章の災害（既定 {DEFAULT_HAZARD}）")
    p.add_argument("--sheets", choices=["neighbourhoods", "school_districts"],
                   help="1 区域 1 ページのシートも作る（自治会・校区）")
    p.add_argument("--recommend", type=number(1, 1000, integer=True),
                   help="新しい居場所の提案を p か所分入れる")
    p.set_defaults(func=cmd_report)


def _add_export(sub: Any) -> None:
    """``tomoni export``."""
    p = sub.add_parser("export", help="入力（匿名化済みのみ）と結果のすべてのレイヤー・表を書き出す")
    p.add_argument("region", help="地域設定ファイル（REGION.toml）")
    p.add_argument("--out", required=True, help="出力フォルダ")
    _force(p)
    p.add_argument("--hazard", default=DEFAULT_HAZARD, help=f"災害シナリオ（既定 {DEFAULT_HAZARD}）")
    p.add_argument("--cp932", action="store_true", help="古い Excel 向けに Shift_JIS の CSV も書く")
    p.add_argument("--parquet", action="store_true", help="GeoParquet も書く（分析者向け）")
    p.add_argument("--recommend", type=number(1, 1000, integer=True),
                   help="新しい居場所の提案も p か所分入れる")
    p.set_defaults(func=cmd_export)


def _add_serve(sub: Any) -> None:
    """``tomoni serve``."""
    p = sub.add_parser("serve", help="アプリを起動する（既定: この機械だけ。ほかの機械にはログインを付けて）")
    p.add_argument("--address", default="127.0.0.1",
                   help="待ち受けるアドレス（既定 127.0.0.1＝この機械だけ）")
    p.add_argument("--port", type=number(1024, 65535, integer=True), default=8501,
                   help="ポート（既定 8501）")
    p.add_argument("--users", help="利用者ファイル（tomoni user-add で作る）。指定するとログインが必要")
    p.add_argument("--data-root", help="アプリが開く・保存するフォルダ（既定: data/）")
    p.add_argument("--region", help="最初に開く地域設定（既定: デモ地域）")
    p.set_defaults(func=cmd_serve)


def _add_user_add(sub: Any) -> None:
    """``tomoni user-add``."""
    p = sub.add_parser("user-add", help="共有で使うアプリの利用者を追加する（パスワードはハッシュで保存）")
    p.add_argument("users", help="利用者ファイル（users.toml）")
    p.add_argument("name", help="利用者名")
    p.set_defaults(func=cmd_user_add)


def _add_batch(sub: Any) -> None:
    """``tomoni batch``."""
    p = sub.add_parser("batch", help="多くの市町村をまとめて計算する（市町村ごとに分割、Dask で並列）")
    p.add_argument("regions", help="バッチ設定（REGIONS.toml）")
    p.add_argument("--out", required=True, help="出力フォルダ（再実行すると終わった市町村は飛ばす）")
    p.add_argument("--scheduler",
                   help="既存の Dask スケジューラ（例 tcp://10.0.0.5:8786）。既定: この機械で起動")
    p.add_argument("--workers", type=number(1, 64, integer=True), default=2,
                   help="この機械で起動するワーカーの数（既定 2）")
    p.add_argument("--dask", action="store_true",
                   help="1 つのプロセスに収まる地域でも、市町村ごとに分割して Dask で計算する")
    p.set_defaults(func=cmd_batch)
