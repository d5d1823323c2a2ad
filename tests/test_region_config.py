"""The region TOML: the exact shape of the issue, paths, mappings, --json output."""

from __future__ import annotations

import json
import shutil

import pytest

from layers.errors import LayerError
from layers.region import load_region, read_config

ISSUE_TOML = """[region]
name = "湖東地域"
# crs = "EPSG:6678"      # optional; default chosen from the data

[layers.boundaries]
path = "boundaries.geojson"
code = "N03_007"          # optional column mapping
name = "N03_004"

[layers.shelters]
path = ["gsi_evacuation_shelters.csv", "gsi_emergency_sites.csv"]

[layers.places]
path = "ibasho.csv"

[roads]
path = "roads.graphml"
network = "walk"
"""


@pytest.fixture
def koto_region(shared_data, demo_dir, tmp_path):
    """The issue's TOML verbatim, over the real 湖東 cp932 files and N03 boundaries."""
    d = shared_data / "akita"
    shutil.copy(d / "boundaries/n03_akita_2021_simplified.geojson", tmp_path / "boundaries.geojson")
    shutil.copy(d / "shelters/gsi_evacuation_shelters_koto_cp932.csv",
                tmp_path / "gsi_evacuation_shelters.csv")
    shutil.copy(d / "shelters/gsi_emergency_sites_koto_cp932.csv", tmp_path / "gsi_emergency_sites.csv")
    (tmp_path / "ibasho.csv").write_text("名称,種別,緯度,経度\n五城目サロン,サロン,39.934,140.116\n",
                                         encoding="utf-8")
    shutil.copy(demo_dir / "roads_walk.graphml", tmp_path / "roads.graphml")
    toml = tmp_path / "region.toml"
    toml.write_text(ISSUE_TOML, encoding="utf-8")
    return toml


def test_issue_toml_shape_works(koto_region, run_cli):
    code, out, err = run_cli("check", koto_region, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["region"] == "湖東地域"
    assert doc["layers"]["shelters"]["rows"] == 222 + 131
    assert doc["layers"]["shelters"]["counts"] == {"emergency_site": 222, "shelter": 131}
    assert doc["layers"]["boundaries"]["rows"] == 25
    assert doc["layers"]["places"]["rows"] == 1
    for entry in doc["layers"].values():
        assert set(entry) >= {"rows", "crs", "bbox", "warnings"}
        assert entry["crs"] == "EPSG:4326" and len(entry["bbox"]) == 4
    assert doc["roads"]["nodes"] > 5000 and doc["roads"]["edges"] > doc["roads"]["nodes"]
    assert doc["analysis_crs"] == "EPSG:6678"


def test_issue_toml_table_output(koto_region, run_cli):
    code, out, _ = run_cli("check", koto_region)
    assert code == 0
    assert "shelters" in out and "353" in out and "EPSG:4326" in out


def test_real_akita_check_counts(shared_data, tmp_path, run_cli):
    d = shared_data / "akita"
    toml = tmp_path / "akita.toml"
    toml.write_text(f"""[region]
name = "秋田県"
[layers.boundaries]
path = "{d}/boundaries/n03_akita_2021_simplified.geojson"
[layers.shelters]
path = ["{d}/shelters/gsi_emergency_sites_akita.csv", "{d}/shelters/gsi_evacuation_shelters_akita.csv"]
[layers.neighbourhoods]
path = "{d}/machiaza/*.json"
""", encoding="utf-8")
    code, out, err = run_cli("check", toml, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["layers"]["boundaries"]["rows"] == 25
    assert doc["layers"]["shelters"]["counts"] == {"emergency_site": 2086, "shelter": 1261}
    assert doc["layers"]["neighbourhoods"]["rows"] > 7000


def test_paths_are_relative_to_the_toml_and_globs_expand(demo_dir, tmp_path):
    cfg = read_config(demo_dir / "region.toml")
    assert all(p.is_absolute() and p.exists() for s in cfg.layers.values() for p in s.paths)
    assert cfg.layers["school_districts"].options["periods"] == ["before", "after"]
    assert cfg.fictional and cfg.crs == "EPSG:6678"


def test_unknown_option_key_warns(tmp_path, demo_dir):
    shutil.copy(demo_dir / "ibasho.csv", tmp_path / "ibasho.csv")
    toml = tmp_path / "r.toml"
    toml.write_text('[region]\nname="t"\n[layers.places]\npath="ibasho.csv"\ncolour="red"\n', "utf-8")
    region = load_region(toml)
    assert any("colour" in w for w in region.summary()["warnings"])


def test_region_crs_must_be_metric(tmp_path):
    toml = tmp_path / "r.toml"
    toml.write_text('[region]\nname="t"\ncrs="EPSG:4326"\n', "utf-8")
    with pytest.raises(LayerError, match="度単位"):
        read_config(toml)


def test_muni_codes_filled_from_boundaries(demo_region):
    for key in ("shelters", "places", "vc_sites"):
        codes = set(demo_region.layers[key]["muni_code"])
        assert codes <= {"05901", "05902", "05903"} and len(codes) >= 2, key


def test_missing_layer_access_is_a_clear_error(demo_region):
    from layers.region import Region

    empty = Region(config=demo_region.config, crs=demo_region.crs, layers={})
    with pytest.raises(LayerError) as err:
        empty.layer("vulnerable")
    assert err.value.column == "layers.vulnerable"


@pytest.mark.shared_data
def test_a_region_saved_with_chosen_municipalities_reopens_kept_to_them(shared_data, tmp_path):
    """What 新しい地域 saves: the prefecture's files, and the two municipalities chosen."""
    from layers.region import load_region
    from layers.region_io import SavedFile, save_region

    n03 = shared_data / "akita/boundaries/n03_akita_2021_simplified.geojson"
    gsi = shared_data / "akita/shelters/gsi_evacuation_shelters_akita.csv"
    toml = save_region(tmp_path / "new", name="秋田市と男鹿市", municipalities=["05201", "05206"],
                       files=[SavedFile("boundaries", n03.name, n03.read_bytes(), {}),
                              SavedFile("shelters", gsi.name, gsi.read_bytes(), {})])
    region = load_region(toml, with_roads=False)
    assert sorted(region.layers["boundaries"]["code"]) == ["05201", "05206"]
    assert set(region.layers["shelters"]["muni_code"]) == {"05201", "05206"}
    assert not region.fictional and any("国土地理院" in a for a in region.attribution())


@pytest.mark.shared_data
@pytest.mark.parametrize("codes", [["05201", "05999"], ["5201x"]])
def test_unknown_municipality_codes_are_a_clear_error(shared_data, tmp_path, codes):
    from layers.region_io import SavedFile, save_region

    n03 = shared_data / "akita/boundaries/n03_akita_2021_simplified.geojson"
    toml = save_region(tmp_path / "typo", name="x", municipalities=codes,
                       files=[SavedFile("boundaries", n03.name, n03.read_bytes(), {})])
    with pytest.raises(LayerError) as err:
        load_region(toml, with_roads=False)
    assert err.value.column == "region.municipalities" and "05201" in (err.value.fix or "")
    assert str(toml) in err.value.message
