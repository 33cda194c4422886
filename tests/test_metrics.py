"""Our Prometheus exposition, read back by the reference parser (prometheus-client)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from homeserver.metrics import Counter, GaugeFunction, Histogram, Registry


def parse(registry: Registry) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    families = text_string_to_metric_families(registry.exposition().decode("utf-8"))
    return {f.name: [(s.name, s.labels, s.value) for s in f.samples] for f in families}


def test_histogram_buckets_are_cumulative_with_count_and_sum() -> None:
    registry = Registry()
    latency = Histogram("req_seconds", "Latency", ["method"], buckets=(0.1, 1))
    registry.register(latency)
    for value in (0.05, 0.5, 0.5, 3.0):
        latency.observe(value, ("GET",))
    latency.observe(0.01, ("PUT",))
    samples = parse(registry)["req_seconds"]
    get = {(n, s["le"]) if "le" in s else (n, ""): v for n, s, v in samples if s["method"] == "GET"}
    assert get[("req_seconds_bucket", "0.1")] == 1
    assert get[("req_seconds_bucket", "1.0")] == 3
    assert get[("req_seconds_bucket", "+Inf")] == 4
    assert get[("req_seconds_count", "")] == 4
    assert get[("req_seconds_sum", "")] == pytest.approx(4.05)
    assert ("req_seconds_count", {"method": "PUT"}, 1.0) in samples


def test_counters_and_scrape_time_gauges() -> None:
    registry = Registry()
    hits = Counter("hits", "Hits by origin", ["origin"])
    registry.register(hits)
    hits.inc(labels=("local",))
    hits.inc(2, labels=("local",))
    waiting = [7]
    registry.register(GaugeFunction("waiting", "Parked", lambda: waiting[0]))
    registry.register(GaugeFunction("wakeups", "Woken", lambda: 3, kind="counter"))
    waiting[0] = 5
    parsed = parse(registry)
    assert parsed["hits"] == [("hits_total", {"origin": "local"}, 3.0)]
    assert parsed["waiting"] == [("waiting", {}, 5.0)]
    assert parsed["wakeups"] == [("wakeups_total", {}, 3.0)]


def test_label_values_are_escaped() -> None:
    registry = Registry()
    hits = Counter("odd", "Odd labels", ["path"])
    registry.register(hits)
    hits.inc(labels=('a"b\\c\nd',))
    assert parse(registry)["odd"] == [("odd_total", {"path": 'a"b\\c\nd'}, 1.0)]


def test_a_name_registers_once() -> None:
    registry = Registry()
    registry.register(Counter("x", "X"))
    with pytest.raises(ValueError):
        registry.register(Counter("x", "X again"))
