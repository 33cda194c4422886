"""The Prometheus text exposition of ``homeserver.metrics`` (format 0.0.4)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from homeserver.metrics import Counter, Histogram, MetricFamily, Metrics, Registry, format_value


def test_values_are_formatted_as_go_floats() -> None:
    assert format_value(1) == "1.0"
    assert format_value(0.0025) == "0.0025"
    assert format_value(math.inf) == "+Inf"
    assert format_value(-math.inf) == "-Inf"
    assert format_value(math.nan) == "NaN"


def test_counter_is_exposed_with_total_suffix_and_sorted_escaped_labels() -> None:
    registry = Registry()
    counter = Counter("things", "Things\\seen\nby kind", ["zeta", "alpha"])
    registry.add(counter)
    counter.labels('a"b', "x\\y\nz").inc()
    counter.labels('a"b', "x\\y\nz").inc(2)
    assert registry.expose().decode().splitlines() == [
        "# HELP things_total Things\\\\seen\\nby kind",
        "# TYPE things_total counter",
        'things_total{alpha="x\\\\y\\nz",zeta="a\\"b"} 3.0',
    ]
    with pytest.raises(ValueError):
        counter.labels("too few")
    with pytest.raises(ValueError):
        counter.labels("a", "b").inc(-1)


def test_histogram_buckets_are_cumulative_with_inf_count_and_sum() -> None:
    registry = Registry()
    histogram = Histogram("latency", "Latency", ["route"], buckets=(0.5, 1))
    registry.add(histogram)
    child = histogram.labels("/x")
    for value in (0.1, 0.5, 0.7, 3.0):
        child.observe(value)
    assert registry.expose().decode().splitlines() == [
        "# HELP latency Latency",
        "# TYPE latency histogram",
        'latency_bucket{le="0.5",route="/x"} 2.0',
        'latency_bucket{le="1.0",route="/x"} 3.0',
        'latency_bucket{le="+Inf",route="/x"} 4.0',
        'latency_count{route="/x"} 4.0',
        'latency_sum{route="/x"} 4.3',
    ]


def test_collectors_are_read_at_scrape_time() -> None:
    metrics = Metrics()
    state = {"n": 0}

    class Collector:
        def collect(self) -> Iterator[MetricFamily]:
            yield MetricFamily("wakeups", "Wake-ups", "counter", state["n"])
            yield MetricFamily("waiting", "Waiting", "gauge", 2)

    metrics.registry.register(Collector())
    state["n"] = 5
    text = metrics.registry.expose().decode()
    assert "# TYPE concord_http_request_seconds histogram\n" in text
    assert "# TYPE concord_events_persisted_total counter\n" in text
    assert "# TYPE wakeups_total counter\nwakeups_total 5.0\n" in text
    assert "# TYPE waiting gauge\nwaiting 2.0\n" in text


def test_duplicate_metric_names_are_refused() -> None:
    registry = Registry()
    registry.add(Counter("x", "X"))
    with pytest.raises(ValueError):
        registry.add(Counter("x_total", "X again"))
