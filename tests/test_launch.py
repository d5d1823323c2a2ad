"""The server process warms the start region (ui.launch): the first visitor's page finds
it loaded, and a start region that fails is left to the page's own message."""

from __future__ import annotations

import logging


def test_the_first_visitor_finds_the_start_region_loaded(demo_dir, monkeypatch):
    import geo.engine.network_cache as network_cache
    import ui.state
    from ui.launch import warm

    monkeypatch.setenv("TOMONI_START_REGION", str(demo_dir / "region.toml"))
    ui.state._load.clear()
    network_cache.forget_loaded()
    reads = []
    real = ui.state.load_region
    monkeypatch.setattr(ui.state, "load_region", lambda *a, **k: reads.append(a) or real(*a, **k))
    warm()
    assert len(reads) == 1 and network_cache._LOADED  # the region and its roads, in memory
    ui.state.open_region(demo_dir / "region.toml")  # what the first page calls
    assert len(reads) == 1


def test_a_start_region_that_fails_is_left_to_the_page(tmp_path, monkeypatch, caplog):
    from ui.launch import warm

    monkeypatch.setenv("TOMONI_START_REGION", str(tmp_path / "missing.toml"))
    with caplog.at_level(logging.WARNING, logger="tomoni"):
        warm()  # no exception: the visitor sees the LayerError on the page
    assert "first visitor" in caplog.text
