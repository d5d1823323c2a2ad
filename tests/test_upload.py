"""Files added in the app: same loaders, clear errors, registers never touch disk."""

from __future__ import annotations

import tempfile

import pytest

from layers.errors import LayerError
from layers.upload import load_uploaded


def test_column_mapping_of_an_upload():
    data = "施設名称,北緯,東経\nサロンA,39.6,140.4\n".encode("cp932")
    gdf = load_uploaded("places", "ibasho.csv", data,
                        options={"name": "施設名称", "lat": "北緯", "lon": "東経", "id": ""})
    assert gdf["name"].iloc[0] == "サロンA" and gdf.geometry.iloc[0].x == pytest.approx(140.4)
    assert gdf["source"].iloc[0] == "ibasho.csv"


def test_upload_errors_name_the_uploaded_file_not_a_temporary_path():
    with pytest.raises(LayerError) as err:
        load_uploaded("places", "ibasho.csv", "名称,緯度,経度\nA,x,140.1\n".encode())
    assert err.value.file == "ibasho.csv" and err.value.row == 2 and err.value.column == "緯度"
    assert "tomoni-upload" not in str(err.value)


def test_unknown_upload_layer():
    with pytest.raises(LayerError):
        load_uploaded("roads", "x.graphml", b"")


def test_register_upload_writes_no_temporary_file(demo_dir, demo_region, monkeypatch):
    def forbidden(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a temporary file was made for a register")

    real_mkstemp = tempfile.mkstemp

    def ledger_only(*args, **kwargs):  # type: ignore[no-untyped-def]
        # the one file written is the publication ledger (a hash and a geography)
        if str(kwargs.get("prefix", "")).startswith(".publications."):
            return real_mkstemp(*args, **kwargs)
        raise AssertionError("a temporary file was made for a register")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", forbidden)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", forbidden)
    monkeypatch.setattr(tempfile, "mkstemp", ledger_only)
    data = (demo_dir / "private/vulnerable_records.csv").read_bytes()
    dens = load_uploaded("vulnerable", "meibo.csv", data, options={"mesh": 500, "k": 5},
                         boundaries=demo_region.layers["boundaries"])
    assert (dens["count"] >= 5).all() and abs(dens["count"].sum() - 3000) <= 2 * len(dens)
