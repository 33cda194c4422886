"""``sfu.metrics.exposition`` writes the same gauges with or without prometheus-client
installed; both read back with the reference parser."""

from __future__ import annotations

import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sfu.metrics import exposition


@pytest.mark.parametrize("installed", [True, False])
def test_gauges_read_back(monkeypatch: pytest.MonkeyPatch, installed: bool) -> None:
    if not installed:
        monkeypatch.setitem(sys.modules, "prometheus_client", None)  # import fails
    text = exposition(
        {"concord_sfu_streams": ("Streams", lambda: 7), "other_gauge": ("Other", lambda: 0.5)}
    ).decode()
    monkeypatch.undo()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["concord_sfu_streams"].documentation == "Streams"
    assert [s.value for s in families["concord_sfu_streams"].samples] == [7]
    assert [s.value for s in families["other_gauge"].samples] == [0.5]
    assert all(f.type == "gauge" for f in families.values())
