"""GSI shelter CSVs: both layouts, both encodings, recognised from the header."""

from __future__ import annotations

import json

import pytest

from layers.errors import LayerError
from layers.shelters import HAZARDS, load_shelters, usable_for

EMERGENCY_HEAD = ("NO,共通ID,施設・場所名,住所,洪水,崖崩れ、土石流及び地滑り,高潮,地震,津波,"
                  "大規模な火事,内水氾濫,火山現象,指定避難所との住所同一,緯度,経度,備考\n")
SHELTER_HEAD = ("NO,共通ID,施設・場所名,住所,指定緊急避難場所との住所同一,"
                "その他市町村長が必要と認める事項,受入対象者,緯度,経度,備考\n")


@pytest.fixture
def koto_like_files(tmp_path):
    """A per-municipality pair: emergency sites in cp932, shelters in UTF-8 with BOM."""
    sites = tmp_path / "sites_cp932.csv"
    sites.write_bytes((EMERGENCY_HEAD
                       + "1,E0536100001201,五城目小学校,秋田県五城目町1-1,1,,,1,,,,,1,39.93,140.11,\n"
                       + "2,E0536100002201,川原公園,秋田県五城目町2-2,,1,,1,,1,,,,39.94,140.12,\n"
                       ).encode("cp932"))
    shelters = tmp_path / "shelters.csv"
    shelters.write_bytes((SHELTER_HEAD
                          + "1,E0536100001111,五城目小学校体育館,秋田県五城目町1-1,1,,,39.93,140.11,\n"
                          + "2,E0536100003121,ひまわり苑,秋田県五城目町3-3,,,要配慮者（高齢者）,"
                          + "39.95,140.10,\n"
                          ).encode("utf-8-sig"))
    return sites, shelters


def test_layouts_and_encodings_recognised_from_header(koto_like_files):
    sites, shelters = koto_like_files
    gdf = load_shelters([shelters, sites])  # order does not matter
    assert gdf.attrs["counts"] == {"emergency_site": 2, "shelter": 2}
    assert gdf.crs.to_epsg() == 4326
    site = gdf.set_index("shelter_id").loc["E0536100001201"]
    assert site["kind"] == "emergency_site" and site["name"] == "五城目小学校"
    assert bool(site["flood"]) and bool(site["earthquake"]) and not bool(site["tsunami"])
    assert site["muni_code"] == "05361"
    for key in HAZARDS:
        assert gdf[key].dtype == bool


def test_welfare_flag_from_ukeire(koto_like_files):
    gdf = load_shelters(list(koto_like_files)).set_index("shelter_id")
    assert bool(gdf.loc["E0536100003121", "welfare"])
    assert gdf.loc["E0536100003121", "accepts"] == "要配慮者（高齢者）"
    assert not bool(gdf.loc["E0536100001111", "welfare"])


def test_shelter_at_same_address_inherits_hazard_flags(koto_like_files):
    gdf = load_shelters(list(koto_like_files)).set_index("shelter_id")
    inherited = gdf.loc["E0536100001111"]
    assert inherited["flags_from"] == "same_address"
    assert bool(inherited["flood"]) and bool(inherited["earthquake"])
    alone = gdf.loc["E0536100003121"]
    assert alone["flags_from"] == "none" and not alone[list(HAZARDS)].any()
    assert usable_for(gdf, "flood").sum() == 2


def test_unknown_hazard_is_refused(koto_like_files):
    gdf = load_shelters(list(koto_like_files))
    with pytest.raises(LayerError, match="災害の種類"):
        usable_for(gdf, "meteor")


def test_optional_capacity_column(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text(SHELTER_HEAD.strip() + ",想定収容人数\n"
                 "1,E0520100001111,A,秋田市,,,,39.7,140.1,,200\n"
                 "2,E0520100002111,B,秋田市,,,,39.7,140.1,,\n", encoding="utf-8")
    gdf = load_shelters([f])
    assert str(gdf["capacity"].dtype) == "Int64"
    assert gdf["capacity"].iloc[0] == 200 and gdf["capacity"].isna().iloc[1]


def test_non_numeric_capacity_names_row(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text(SHELTER_HEAD.strip() + ",想定収容人数\n"
                 "1,E0520100001111,A,秋田市,,,,39.7,140.1,,たくさん\n", encoding="utf-8")
    with pytest.raises(LayerError) as err:
        load_shelters([f])
    assert err.value.row == 2 and err.value.column == "想定収容人数"


# ----------------------------------------------------------------------- real data


def test_real_akita_merged_utf8_counts(shared_data):
    d = shared_data / "akita" / "shelters"
    gdf = load_shelters([d / "gsi_emergency_sites_akita.csv", d / "gsi_evacuation_shelters_akita.csv"])
    assert len(gdf) == 3347
    assert gdf.attrs["counts"] == {"emergency_site": 2086, "shelter": 1261}
    assert gdf["shelter_id"].is_unique
    assert gdf["muni_code"].str.fullmatch(r"05\d{3}").all()
    assert gdf["welfare"].sum() == 136  # non-empty 受入対象者 in the real file
    assert gdf.loc[gdf["kind"] == "emergency_site", "flood"].sum() > 0


def test_real_koto_cp932_counts(shared_data):
    d = shared_data / "akita" / "shelters"
    sites = load_shelters([d / "gsi_emergency_sites_koto_cp932.csv"])
    shelters = load_shelters([d / "gsi_evacuation_shelters_koto_cp932.csv"])
    assert len(sites) == 222 and (sites["kind"] == "emergency_site").all()
    assert len(shelters) == 131 and (shelters["kind"] == "shelter").all()
    assert set(sites["muni_code"]) == {"05211", "05361", "05363", "05366", "05368"}
    # the cp932 names decode to real Japanese, not mojibake
    assert sites["name"].str.contains("集会所|公民館|小学校").any()


def test_real_tachikawa_geojson(shared_data):
    d = shared_data / "tachikawa"
    gdf = load_shelters([d / "gsi_emergency_sites_132021.geojson",
                         d / "gsi_evacuation_shelters_132021.geojson"])
    assert gdf.attrs["counts"] == {"emergency_site": 46, "shelter": 43}
    props = json.loads((d / "gsi_emergency_sites_132021.geojson").read_text("utf-8"))
    floods = sum(f["properties"]["洪水"] == "1" for f in props["features"])
    assert gdf.loc[gdf["kind"] == "emergency_site", "flood"].sum() == floods


def test_files_combined_after_loading_draw_like_files_read_together(shared_data):
    """The real Akita GSI files uploaded one by one and combined (the app's uploads) give
    each 指定避難所 the flags :func:`load_shelters` gives when it reads both together: a
    shelter at an emergency site's address is not drawn as 'not designated' over it."""
    import pandas as pd

    from layers.shelters import HAZARDS, inherit_flags

    d = shared_data / "akita" / "shelters"
    files = [d / "gsi_emergency_sites_akita.csv", d / "gsi_evacuation_shelters_akita.csv"]
    together = load_shelters(files).set_index("shelter_id")
    apart = pd.concat([load_shelters([f]) for f in files], ignore_index=True)
    combined = inherit_flags(apart).set_index("shelter_id").loc[together.index]
    assert (together["flags_from"] == "same_address").sum() > 0
    assert (combined["flags_from"] == together["flags_from"]).all()
    assert (combined[list(HAZARDS)].to_numpy() == together[list(HAZARDS)].to_numpy()).all()
