"""Japanese UI text (default) with an English switch."""

from __future__ import annotations

import streamlit as st

TEXT: dict[str, tuple[str, str]] = {
    "upload_browse": ("ファイルを選ぶ", "Browse files"),
    "select_all": ("すべて選ぶ", "Select all"),
    "select_matches": ("一致するものをすべて選ぶ", "Select all matches"),
    "sources": ("データの出典と日付", "Where the data come from"),
    "copy_in_help": ("この地域はアプリのデータフォルダの外にあります。アプリは外のファイルを読みません。"
                     "地域設定とそれが読むファイルをデータフォルダにコピーして開けます"
                     "（要配慮者の名簿はコピーしません。開いたあとで追加してください）。",
                     "This region lies outside the app's data folder, which the app never reads. Copy "
                     "it and the files it reads in (a register is not copied: add it again)."),
    "copy_in": ("データフォルダにコピーして開く", "Copy into the data folder and open"),
    "copy_in_running": ("コピーしています…", "Copying…"),
    "season_needs_roads": ("冬（除雪・冬期閉鎖）との比較には道路データが必要です。"
                           "道路がないと冬も夏と同じ直線距離の推定になるため選べません。データのページの「道路（OpenStreetMap）」で作ってください。",
                           "Winter needs roads: without them winter would equal summer's straight-line "
                           "estimate. Build the roads on the data page."),
    "fetch_title": ("公開データを取得して作る（インターネット）", "Fetch public data (online)"),
    "fetch_help": ("市町村を選ぶと、市町村界（国土数値情報 N03）、国土地理院の指定緊急避難場所・指定避難所、"
                   "町字の参照点（Geolonia）を公開元から取得して、データフォルダに地域を作ります。"
                   "一度取得すれば、以後はオフラインで使えます。",
                   "Fetches the boundary (N03), the GSI shelters and the town points (Geolonia) of one "
                   "municipality into the data folder; afterwards it works offline."),
    "fetch_pref": ("都道府県", "Prefecture"),
    "fetch_muni": ("市町村", "Municipality"),
    "fetch_muni_example": ("例: 潟上市", "e.g. 潟上市"),
    "fetch_go": ("取得する", "Fetch"),
    "fetch_running": ("公開データを取得しています…", "Fetching…"),
    "roads": ("道路", "Roads"),
    "projection": ("将来推計人口", "Population projection"),
    "machiaza_target": ("町字の参照点（住所の位置）", "Town reference points (placing addresses)"),
    "machiaza_help": ("住所だけの一覧（サロン・名簿・ニーズ票）の位置を求めるための、市町村ごとの町字の代表点"
                      "（Geolonia japanese-addresses の JSON、例: 潟上市.json）を追加します。",
                      "Add a municipality's town points (Geolonia japanese-addresses JSON, e.g. 潟上市.json) "
                      "to place lists that have addresses only."),
    "machiaza_line": ("{muni} の町字 {n} 件（住所の位置に使います）",
                      "{n} towns of {muni} (used to place addresses)"),
    "upload_limit": ("1ファイル {mb} MB まで（ここにドラッグしても追加できます）",
                     "Up to {mb} MB a file (or drag files here)"),
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
    "roads_build": ("道路（OpenStreetMap）", "Roads (OpenStreetMap)"),
    "roads_build_help": ("OSM の地域抽出ファイル（例: Geofabrik の tohoku-latest.osm.pbf）から、"
                         "地域の市町村界と周り 3 km の道路だけを取り出して一度だけ作ります。"
                         "次からはすぐに読み込みます。",
                         "Keeps the region's roads (its boundaries + 3 km) from an OSM extract such as "
                         "Geofabrik's tohoku-latest.osm.pbf, built once; later it loads at once."),
    "roads_extract": ("OSM の抽出ファイル", "OSM extract file"),
    "roads_upload": ("または OSM の抽出ファイルを追加（市町村程度の大きさまで。県全体は上のパスで）",
                     "Or add an OSM extract file (up to a municipality's size; a prefecture by path above)"),
    "roads_make": ("道路を作る", "Build roads"),
    "roads_download": ("ダウンロードして作る", "Download and build"),
    "roads_building": ("道路を作っています", "Building the roads"),
    "roads_built": ("道路を作りました: 交点 {nodes:,}、区間 {edges:,}（{seconds:.1f} 秒）。"
                    "地域設定の [roads] を書き換えました。",
                    "Roads built: {nodes:,} nodes, {edges:,} links ({seconds:.1f} s); "
                    "the region's [roads] now names them."),
    "save_region": ("この地域をフォルダに保存", "Save this region as a folder"),
    "save_path": ("保存先フォルダ", "Folder"),
    "save": ("保存", "Save"),
    "saved": ("保存しました", "Saved"),
    "data_root_hint": ("開く・保存するのはデータフォルダ（{root}）の中だけです。",
                       "Files are opened from and saved to the data folder ({root}) only."),
    "replace_folder": ("このフォルダには既に地域が保存されています。置き換えますか？",
                       "This folder already holds a saved region. Replace it?"),
    "replace_yes": ("置き換える", "Replace it"),
    "login_title": ("ログイン", "Log in"),
    "login_user": ("利用者名", "User name"),
    "login_password": ("パスワード", "Password"),
    "login_button": ("ログイン", "Log in"),
    "login_failed": ("利用者名かパスワードが違います。", "Wrong user name or password."),
    "login_locked": ("ログインの失敗が続いたため、この利用者名は約 {minutes} 分間ログインできません。",
                     "Too many failed logins: this user name is locked for about {minutes} minutes."),
    "other_users_folder": ("ほかの利用者のフォルダです。", "Another user's folder."),
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
    "page_shelters": ("避難所と要配慮者", "Shelters and demand"),
    "page_vc": ("災害VC・ルート", "Disaster VC and routes"),
    "page_cross": ("広域連携", "Cross-border"),
    "scenario_hazard": ("災害の種類（シナリオ）", "Hazard scenario"),
    "usable_shelters": ("使える避難所", "Usable shelters"),
    "closed_roads": ("通行止めの道路", "Closed road segments"),
    "assigned": ("避難先のある要配慮者", "People with a shelter"),
    "unreachable": ("避難先に行けない要配慮者", "People with no reachable shelter"),
    "overloaded": ("収容人数を超える避難所", "Overloaded shelters"),
    "unreachable_list": ("避難先に行けない単位（最優先）", "Units with no reachable shelter (first)"),
    "overloaded_list": ("収容人数を超える避難所", "Overloaded shelters"),
    "capacity_bars": ("避難所ごとの割り当て人数と収容人数", "Assigned people vs capacity per shelter"),
    "shelter_table": ("避難所ごとの負荷", "Load per shelter"),
    "welfare": ("福祉避難所（推定需要と収容人数）", "Welfare shelters (estimated demand vs capacity)"),
    "shelter_needs": ("避難所ごとの最低限の必要量（トイレ・面積・入浴）",
                      "Minimum needs per shelter (toilets, floor area, baths)"),
    "needs_evacuees": ("避難者", "Evacuees"),
    "needs_care": ("うち要配慮者", "of whom needing care"),
    "needs_toilets_first": ("トイレ（発災当初）", "Toilets (first days)"),
    "needs_toilets_later": ("トイレ（その後）", "Toilets (later)"),
    "needs_area_short": ("面積が足りない避難所", "Shelters short of floor area"),
    "need_shelters": ("避難所のレイヤーが必要です。データのページで国土地理院の避難所 CSV を追加するか、"
                      "新しい地域の「公開データを取得して作る」で取得してください。",
                      "Needs shelters: add the GSI shelter CSVs on the Data page, or fetch them."),
    "need_roads": ("道路データがありません。データのページの「道路（OpenStreetMap）」で、OSM の抽出ファイルを"
                   "追加するかダウンロードして作ってください（地域をフォルダに保存してから）。",
                   "No roads: build them on the Data page (Roads), from an OSM extract or a download "
                   "(save the region first)."),
    "vc_plan": ("災害VCの候補地と開設計画", "VC candidates and plan"),
    "vc_tab_plan": ("開設計画・ルート", "VC plan and routes"),
    "vc_tab_dispatch": ("ボランティア派遣", "Volunteer dispatch"),
    "dispatch_intro": ("ニーズ票と班の一覧から、班ごとの訪問先・順番・ルートを作ります"
                       "（通行止めの道路は避けます）。氏名・電話番号・住所の文字は読み込みません。",
                       "Plan each team's visits, order and route from the needs and teams lists "
                       "(closed roads avoided). Names, phone numbers and address text are not read."),
    "dispatch_needs": ("ニーズ票（CSV・Excel）", "Needs list (CSV, Excel)"),
    "dispatch_teams": ("班の一覧（CSV・Excel）", "Teams list (CSV, Excel)"),
    "dispatch_use_demo": ("デモのニーズ票と班を使う（架空）", "Use the demo needs and teams (fictional)"),
    "dispatch_upload_both": ("ニーズ票と班の一覧の両方を読み込んでください。",
                             "Upload both the needs and the teams."),
    "dispatch_vc": ("開設する災害VC", "Open VC"),
    "dispatch_vc_auto": ("自動（ニーズに近い候補地）", "Automatic (the candidate nearest the needs)"),
    "dispatch_vc_flooded": ("想定区域内で使えない候補地: {sites}",
                            "Candidates inside the hazard zones: {sites}"),
    "dispatch_no_vc": ("想定区域の外に災害VCの候補地がありません。",
                       "No VC candidate lies outside the hazard zones."),
    "dispatch_time_limit": ("計算の制限時間（秒）", "Solver time limit (s)"),
    "dispatch_run": ("派遣計画を作る", "Plan the day"),
    "dispatch_assigned": ("割り当てたニーズ", "Needs assigned"),
    "dispatch_unassigned": ("未割当", "Not assigned"),
    "dispatch_teams_used": ("出動する班", "Teams sent"),
    "dispatch_total_km": ("移動距離の合計（km）", "Total km"),
    "dispatch_solver": ("ソルバー {solver}、{time} 秒", "Solver {solver}, {time} s"),
    "dispatch_legend": ("班のルート", "Team routes"),
    "dispatch_teams_table": ("班ごとの予定", "Teams"),
    "dispatch_day_table": ("訪問表", "Visits"),
    "dispatch_kept": ("さきほど読み込んだ一覧を使っています: {needs}、{teams}"
                      "（差し替えるには新しいファイルを選んでください）",
                      "Using the lists loaded earlier: {needs}, {teams} (choose new files to replace them)"),
    "dispatch_forget": ("一覧と計画を外す", "Forget the lists and the plan"),
    "dispatch_reasons_table": ("割り当てられない理由（件数）", "Why needs wait (counts)"),
    "dispatch_unassigned_table": ("今日割り当てられないニーズと理由",
                                  "Needs not assigned today, and why"),
    "dispatch_make_sheets": ("班票（PDF）を作る", "Make team sheets (PDF)"),
    "route": ("ルート（通常時と災害時）", "Route (normal vs hazard)"),
    "route_from": ("出発地", "From"),
    "route_to": ("目的地", "To"),
    "click_point": ("地図をクリックした地点", "Point clicked on the map"),
    "click_sets": ("地図のクリックで設定する地点", "A map click sets"),
    "no_click": ("（まだクリックしていません）", "(no click yet)"),
    "normal": ("通常時", "Normal"),
    "hazard_route": ("災害時", "Hazard"),
    "route_sheet": ("ルート表（PDF）", "Route sheet (PDF)"),
    "route_none": ("ルートがありません", "No route"),
    "travel_profile": ("移動の手段", "Travel mode"),
    "profile_drive": ("車", "Car"),
    "cross_flows": ("市町村境を越えた方が近い要配慮者", "People better served across the border"),
    "cross_flows_areas": ("市町村境を越えた方が近い地区（代替指標）",
                          "Areas better served across the border (a stand-in, not people)"),
    "partners": ("相互応援協定の相手の候補", "Suggested partner pairs"),
    "vc_matrix": ("災害VC間の距離（km）", "VC-to-VC distance (km)"),
    "no_hazard": ("なし（平常時）", "None (normal)"),
    "cross_layer": ("施設", "Facilities"),
    "report": ("分析レポート（PDF・HTML）", "Region report (PDF, HTML)"),
    "report_recommend": ("新しい居場所の提案（か所、0 で省略）", "Recommended new sites (0 = none)"),
    "report_sheets": ("区域別シート", "Per-area sheets"),
    "no_sheets": ("作らない", "None"),
    "rows_kept": ("{kept:,}（選んだ市町村。ファイル全体 {total:,}）",
                  "{kept:,} (chosen municipalities; {total:,} in the file)"),
    "report_done": ("レポートができました", "The report is ready"),
    "make_report": ("レポートを作る", "Build the report"),
    "page_siting": ("新しい居場所の提案", "Where to open next"),
    "existing_sites": ("今ある場所（残す）", "Existing sites (kept)"),
    "candidates": ("候補地", "Candidates"),
    "new_sites": ("新しく開く数", "New sites (p)"),
    "outside_hazard": ("災害の区域を避ける", "Avoid hazard zones"),
    "no_filter": ("避けない", "No filter"),
    "capacity_col": ("容量", "Capacity"),
    "no_capacity": ("考えない", "Ignore"),
    "covered_before": ("今の徒歩圏", "Covered now"),
    "covered_after": ("開いた後の徒歩圏", "Covered after"),
    "opt_gap": ("最適性ギャップ", "Optimality gap"),
    "recommended": ("提案する場所", "Recommended sites"),
    "gain_curve": ("開く数と効果", "Gain curve"),
    "before_after": ("自治会・校区ごとの前後", "Before and after per area"),
    "page_coverage": ("カバー率", "Coverage"),
    "page_transit": ("公共交通", "Buses"),
    "transit_none": ("この地域にはバスの時刻表（GTFS）がありません。"
                     "事業者や市町村が公開している GTFS-JP の zip をここで追加すると使えます。",
                     "This region has no bus timetable: add a GTFS-JP zip here."),
    "transit_upload": ("GTFS-JP の zip を追加", "Add a GTFS-JP zip"),
    "transit_added": ("時刻表を追加しました: {name}（停留所 {stops} か所）",
                      "Timetable added: {name} ({stops} stops)"),
    "transit_target": ("公共交通の時刻表（GTFS-JP の zip）", "Bus timetable (GTFS-JP zip)"),
    "transit_to": ("行き先", "Destination"),
    "transit_date": ("時刻表の日", "Timetable date"),
    "transit_window": ("家を出る時間帯", "Leaving home between"),
    "transit_minutes": ("家から着くまで（分）", "Door to door (min)"),
    "transit_rule": ("届くの判定", "Reached when"),
    "rule_trip": ("時間帯のどこかで一度でも", "at least once in the window"),
    "rule_median": ("出発時刻の中央値で", "at the median departure"),
    "transit_reach_walk": ("徒歩だけで届く", "On foot only"),
    "transit_reach_bus": ("徒歩＋バスで届く", "Walking + bus"),
    "transit_gained": ("バスで新たに", "Gained by bus"),
    "transit_lost_weekend": ("休日に届かなくなる", "Lost on the weekend"),
    "transit_lost_winter": ("冬に届かなくなる", "Lost in winter"),
    "transit_trips": ("この日の便", "Trips that day"),
    "transit_routes": ("路線ごとの利用者候補", "Riders in reach per route"),
    "transit_areas": ("自治会ごと（届かない人の多い順）", "Per 自治会 (most unreached first)"),
    "transit_whatif": ("停留所・便を 1 つ増やしたら（計算し直します）", "One more stop or trip (recomputed)"),
    "transit_whatif_run": ("試す", "Try"),
    "transit_new_stops": ("新しい停留所の候補", "New stop candidates"),
    "transit_extra_trips": ("増やす便の候補", "Extra trip candidates"),
    "transit_caption": ("所要時間は家を出てから着くまで（停留所での待ちを含む）。"
                        "路線の線は停留所を結んだ線で、道路の形ではありません。",
                        "Minutes from leaving home to arriving (waits included). Lines join the stops; "
                        "they are not the roads."),
    "page_consolidation": ("校区再編", "School consolidation"),
    "need_districts": ("校区と要配慮者のレイヤーが必要です。", "Needs school districts and 要配慮者."),
    "need_periods": ("校区のファイルに再編前・後の2つの時点が必要です（時点の列のあるファイル、"
                     "または2つのファイル）。",
                     "The school districts need two periods (a period column, or two files)."),
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
    "public_tables": ("市町村ごとの避難所の指定状況（公開データ）",
                      "Shelters per municipality (public data)"),
    "public_by_hazard": ("災害ごとに指定された指定緊急避難場所の数",
                         "Emergency sites designated per hazard"),
    "public_only": ("要配慮者のレイヤーがないため、公開データ（国土地理院の避難所データ）だけで"
                    "分かる表を示します。要配慮者との突き合わせには、データのページで名簿か"
                    "人数の表を追加してください。",
                    "Without a 要配慮者 layer, the tables below come from public data alone (GSI shelters). "
                    "Add a register or counts on the Data page to compare shelters with people."),
    "download_public": ("ダウンロード: shelters_by_municipality.csv",
                        "Download: shelters_by_municipality.csv"),
    "facility_layer": ("施設のレイヤー", "Facilities"),
    "threshold": ("徒歩圏のしきい値（m）", "Threshold (m)"),
    "threshold_minutes": ("（{minutes:.0f} 分）", "({minutes:.0f} min)"),
    "season": ("季節", "Season"),
    "season_summer": ("夏", "Summer"),
    "season_winter": ("冬（雪道・冬期閉鎖）", "Winter (snow, closures)"),
    "season_caption": ("冬は、しきい値を歩く時間として、雪道の遅れと冬期閉鎖を入れて計算します。",
                       "In winter the threshold is a walking time, slowed by snow; closed "
                       "sections are closed."),
    "season_caption_closures": ("冬は、冬期閉鎖のすべての区間も通行止めにします。",
                                "In winter the closed sections are closed as well."),
    "year": ("年（将来推計）", "Year (projection)"),
    "year_now": ("今", "Now"),
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
    "unit_areas": ("地区（代替指標）", "areas (stand-in)"),
    "muni_pairs": ("市町村の組", "Municipality pairs"),
    "unit_people": ("人", "people"),
    "source_new": ("新しい地域", "New region"),
    "new_region_help": ("名前を付けて空の地域を作り、市町村界・避難所などのファイルを追加します。"
                        "デモ地域（架空）とは別の地域です。",
                        "Name an empty region and add files to it (boundaries, shelters …); it is "
                        "separate from the fictional demo."),
    "new_region_name": ("地域の名前", "Region name"),
    "new_region_start": ("作る", "Create"),
    "demo_with_uploads": ("架空のデモ地域に実際のファイルを追加しています。実際の地域を扱うときは"
                          "「新しい地域」を作ってください。",
                          "Real files are added to the fictional demo. For a real region, create a "
                          "new region."),
    "municipalities": ("対象の市町村", "Municipalities"),
    "municipalities_help": ("市町村界のファイル（N03 など）の中から、この地域に含める市町村を選びます。"
                            "ほかのレイヤーも選んだ市町村の中だけになります。",
                            "Choose which municipalities of the boundary file (N03 …) this region "
                            "covers; the other layers are kept to them."),
    "hazard_of_file": ("このファイルの災害の種類", "Hazard of this file"),
    "hazard_in_file": ("ファイルの列から読む", "Read from the file"),
    "fix_in_app": ("「データ」のページで、このレイヤーのファイルを追加してください。",
                   "Add a file for this layer on the Data page."),
    "paper_A4-landscape": ("A4 横", "A4 landscape"),
    "paper_A4-portrait": ("A4 縦", "A4 portrait"),
    "paper_A3-landscape": ("A3 横", "A3 landscape"),
    "paper_A3-portrait": ("A3 縦", "A3 portrait"),
    "unit_sites": ("か所", "sites"),
    "app_name": ("ともにマップ", "tomoni-map"),
    "lang_ja": ("日本語", "日本語"),
    "route_to_label": ("までの道のり", "walking distance to"),
    "gap_outline": ("空白地帯", "Coverage gaps"),
    "region_file": ("地域設定ファイル", "region file"),
    "cannot_open": ("ファイルを開けません", "Cannot open the file"),
    "save_folder": ("保存先フォルダ", "folder to save in"),
    "export_title_default": ("避難所と災害危険区域", "Shelters and hazard zones"),
    "make_html": ("オフラインで開ける地図（HTML）を作る", "Make a map that opens offline (HTML)"),
    "bar_assigned": ("割り当て人数", "Assigned people"),
    "bar_capacity": ("収容人数", "Capacity"),
    "cand_gap_nodes": ("空白地帯の道路ノード", "Road nodes in gaps"),
    "cand_gap_units": ("空白地帯の中心", "Centres of gaps"),
    "cand_closed_schools": ("閉校になる学校", "Schools that close"),
    "siting_title": ("新しい居場所の提案", "Recommended new places"),
    "proposed_site": ("提案する場所", "Proposed site"),
    "col_distance_m": ("距離 m", "Distance (m)"),
    "col_time_min": ("時間 分", "Time (min)"),
    "col_detour": ("迂回率", "Detour ratio"),
    "col_closed_avoided": ("回避した通行止め", "Closures avoided"),
    "col_reason": ("理由", "Reason"),
    "route_title": ("ルート", "Route"),
    "col_layer": ("レイヤー", "Layer"),
    "col_origin": ("出所", "Source"),
    "col_rows": ("行数", "Rows"),
    "col_crs": ("座標系", "CRS"),
    "col_extent": ("範囲", "Extent"),
    "col_warnings": ("警告", "Warnings"),
    "origin_config": ("地域設定", "Region file"),
    "origin_upload": ("追加", "Added"),
    "roads_row": ("道路", "Roads"),
    "nodes_links": ("ノード {nodes} / リンク {edges}", "{nodes} nodes / {edges} links"),
    "upload_density_line": ("{geo}、k={k}、公開 {units} 単位（合算 {merged} 単位）、読込 {read} 件・"
                            "区域内 {inside} 件・区域外 {outside} 件。個人の位置は保持していません。",
                            "{geo}, k={k}: {units} units published ({merged} merged); {read} read, "
                            "{inside} inside and {outside} outside the region. No individual location "
                            "is kept."),
    "upload_rows": ("{n} 件", "{n} rows"),
    "fix_points": ("位置を地図で直す", "Fix a point on the map"),
    "fix_row": ("直す行", "Row to fix"),
    "fix_help": ("地図で正しい場所をクリックすると、その行の位置になります（名簿は対象外です）。",
                 "Click the right place on the map to move the row there (registers excepted)."),
    "fix_done": ("「{name}」の位置を直しました。", "Moved “{name}”."),
    "upload_empty": ("地物が 1 件もありません（何も追加していません）。列の対応や範囲を確かめてください。",
                     "No features were added. Check the column mapping and the area."),
}






HAZARDS_EN = {"flood": "Flood", "landslide": "Landslide", "storm_surge": "Storm surge",
              "earthquake": "Earthquake", "tsunami": "Tsunami", "fire": "Large fire",
              "inland_flood": "Inland flooding", "volcano": "Volcano"}


class Tr:
    """The UI text of one language, as plain functions: what widgets' ``format_func`` use
    (Streamlit may call those outside the page's run, where the session is not at hand)."""

    def __init__(self, language: str) -> None:
        self.lang = language

    @classmethod
    def current(cls) -> Tr:
        return cls(lang())

    def __call__(self, key: str) -> str:
        ja, en = TEXT.get(key, (key, key))
        return ja if self.lang == "ja" else en

    def hazard(self, key: str) -> str:
        from layers.shelters import HAZARD_LABELS

        return HAZARDS_EN.get(key, key) if self.lang == "en" else HAZARD_LABELS.get(key, key)

    def layer(self, key: str) -> str:
        from layers.layer_facts import label_of

        return label_of(key, lang=self.lang)


def lang() -> str:
    """The current UI language (``"ja"`` or ``"en"``)."""
    return str(st.session_state.get("lang", "ja"))


def t(key: str) -> str:
    """The UI text for ``key`` in the current language."""
    return Tr.current()(key)


def t_hazard(key: str) -> str:
    """A hazard type's label in the current language."""
    return Tr.current().hazard(key)


def t_layer(key: str) -> str:
    """A layer's label in the current language (from the layer fact table)."""
    return Tr.current().layer(key)


def widget_words() -> None:
    """Streamlit's own words — its upload box (「Upload」「200MB per file」) and a multiselect's
    「Select all」 — in the UI's language: drawn by the browser from our text (CSS), since
    Streamlit has no setting for them.  Only our fixed strings reach the style sheet."""
    import json

    mb = int(st.get_option("server.maxUploadSize"))
    select_all = json.dumps(t("select_all"), ensure_ascii=False)
    select_matches = json.dumps(t("select_matches"), ensure_ascii=False)
    browse = json.dumps(t("upload_browse"), ensure_ascii=False)
    limit = json.dumps(t("upload_limit").format(mb=mb), ensure_ascii=False)
    st.html(
        "<style>"
        '[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] p'
        "{font-size:0;line-height:0}"
        '[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] p::after'
        f"{{content:{browse};font-size:0.875rem;line-height:1.6}}"
        '[data-testid="stFileUploaderDropzoneInstructions"] span{font-size:0}'
        f'[data-testid="stFileUploaderDropzoneInstructions"] span::after{{content:{limit};font-size:0.8rem}}'
        '[role="option"][data-key="__select_all__"] [data-item-hl],'
        '[role="option"][data-key="__select_matches__"] [data-item-hl]{font-size:0}'
        '[role="option"][data-key="__select_all__"] [data-item-hl]::after'
        f"{{content:{select_all};font-size:0.875rem}}"
        '[role="option"][data-key="__select_matches__"] [data-item-hl]::after'
        f"{{content:{select_matches};font-size:0.875rem}}"
        "</style>")


def md_plain(text: str) -> str:
    """Text from files or people shown through Streamlit's markdown as the text it is: every
    markdown sign escaped (a link, an image or emphasis cannot be planted in a credit line)."""
    import re

    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~:$])", r"\\\1", str(text))
