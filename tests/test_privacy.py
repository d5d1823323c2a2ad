"""The leak scanner itself: it must find what it is meant to find; and what holds people in
memory can never be pickled."""

from __future__ import annotations

import pytest

from tests.leakscan import Sensitive, scan_bytes, sensitive_from_records


def _sensitive() -> Sensitive:
    s = Sensitive()
    s.add_pair("39.571234", "140.401234")
    s.add_string("佐藤 花子")
    s.add_string("架空県湖北市本町12番3号")
    return s


def test_finds_a_coordinate_pair_at_any_precision():
    s = _sensitive()
    assert scan_bytes(b'{"coordinates": [140.4012, 39.5712]}', s, rule="pairs")
    assert scan_bytes(b"39.57123,140.40123", s, rule="pairs")
    assert scan_bytes(b"lat 39.571234 lon 140.401234", s, rule="pairs")
    assert not scan_bytes(b"140.4012 ... " + b"x" * 200 + b" 39.5712", s, rule="pairs")


def test_strict_rule_finds_a_single_coordinate_and_doubles():
    import struct

    s = _sensitive()
    assert scan_bytes(b"[39.5712, 1.0]", s, rule="strict")
    assert not scan_bytes(b"[39.57, 1.0]", s, rule="strict")  # 2 decimals: not a leak
    assert scan_bytes(b"\x00" + struct.pack("<d", 39.571234) + b"\x00", s, rule="strict")


def test_finds_names_and_addresses_in_utf8_and_cp932():
    s = _sensitive()
    assert scan_bytes("氏名: 佐藤 花子".encode(), s)
    assert scan_bytes("架空県湖北市本町12番3号".encode("cp932"), s)
    assert not scan_bytes("佐藤さん".encode(), s)


def test_reads_a_register(demo_dir):
    s = sensitive_from_records(demo_dir / "private/vulnerable_records.csv")
    assert len(s.pairs) == 3000 and len(s.strings) > 1000


def test_finds_a_coordinate_inside_a_compressed_geoparquet(tmp_path):
    import geopandas as gpd

    from tests.leakscan import scan_paths

    s = _sensitive()
    many = gpd.GeoDataFrame({"v": range(2000)},
                            geometry=gpd.points_from_xy([140.401234] * 2000, [39.571234] * 2000),
                            crs="EPSG:4326")
    many.to_parquet(tmp_path / "leak.parquet", compression="zstd")
    assert scan_paths([tmp_path / "leak.parquet"], s, rule="pairs")
    safe = many.assign(geometry=gpd.points_from_xy([140.5] * 2000, [39.5] * 2000))
    safe.to_parquet(tmp_path / "safe.parquet", compression="zstd")
    assert not scan_paths([tmp_path / "safe.parquet"], s, rule="pairs")


def test_no_result_per_person_can_be_pickled():
    """Every in-memory holder of a result per person (a distance, a shelter, a time, a crossing)
    refuses pickling, so none reaches a file, a cache or a Dask worker; the people themselves
    (``Demand``) too.  The holders are found by their base, and the known six must be among them."""
    import importlib
    import pickle
    import pkgutil

    import geo.analyses
    from layers.demand import Demand, PerPerson

    for mod in pkgutil.iter_modules(geo.analyses.__path__):
        importlib.import_module(f"geo.analyses.{mod.name}")
    holders = {c.__name__: c for c in _subclasses(PerPerson)}
    assert {"PeopleReach", "_People", "PeopleTransit", "_Who", "_Crossing", "_Reach"} <= set(holders)
    for cls in [*holders.values(), Demand]:
        with pytest.raises(TypeError):
            pickle.dumps(cls.__new__(cls))


def _subclasses(cls: type) -> list[type]:
    return [c for s in cls.__subclasses__() for c in (s, *_subclasses(s))]
