"""Prometheus metrics in the text exposition format (version 0.0.4), one registry per
application (no process-global state).

Our own few lines rather than prometheus-client: that package imports an HTTP server,
a WSGI server, urllib.request and email (~3-4 MB of a process that must idle small),
and the server needs only counters, gauges read at scrape time, and histograms.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LabelValues = tuple[str, ...]


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{name}="{_escape(value)}"' for name, value in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.labelnames = tuple(labelnames)

    def header(self) -> Iterator[str]:
        # A counter's family is named with its `_total` suffix in format 0.0.4.
        name = self.name + "_total" if self.kind == "counter" else self.name
        yield f"# HELP {name} {self.help}"
        yield f"# TYPE {name} {self.kind}"

    def samples(self) -> Iterator[str]:
        raise NotImplementedError


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labelnames)
        self._values: dict[LabelValues, float] = {} if labelnames else {(): 0.0}

    def inc(self, amount: float = 1.0, labels: LabelValues = ()) -> None:
        self._values[labels] = self._values.get(labels, 0.0) + amount

    def samples(self) -> Iterator[str]:
        for labels, value in self._values.items():
            yield f"{self.name}_total{_labels(self.labelnames, labels)} {_number(value)}"


class _Series:
    __slots__ = ("buckets", "count", "sum")

    def __init__(self, size: int) -> None:
        self.buckets = [0] * size
        self.count = 0
        self.sum = 0.0


class Histogram(_Metric):
    kind = "histogram"

    def __init__(
        self,
        name: str,
        help_text: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    ) -> None:
        super().__init__(name, help_text, labelnames)
        self.bounds = sorted(float(b) for b in buckets)
        self._series: dict[LabelValues, _Series] = {}

    def observe(self, value: float, labels: LabelValues = ()) -> None:
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = _Series(len(self.bounds))
        index = bisect.bisect_left(self.bounds, value)
        if index < len(self.bounds):
            series.buckets[index] += 1
        series.count += 1
        series.sum += value

    def samples(self) -> Iterator[str]:
        for labels, series in self._series.items():
            cumulative = 0
            for bound, hits in zip(self.bounds, series.buckets, strict=True):
                cumulative += hits
                le = _labels(self.labelnames, labels, f'le="{_number(bound)}"')
                yield f"{self.name}_bucket{le} {_number(cumulative)}"
            inf = _labels(self.labelnames, labels, 'le="+Inf"')
            yield f"{self.name}_bucket{inf} {_number(series.count)}"
            plain = _labels(self.labelnames, labels)
            yield f"{self.name}_count{plain} {_number(series.count)}"
            yield f"{self.name}_sum{plain} {_number(series.sum)}"


class GaugeFunction(_Metric):
    """A gauge (or, with ``kind="counter"``, a counter) read from ``read`` at scrape time."""

    def __init__(
        self, name: str, help_text: str, read: Callable[[], float], kind: str = "gauge"
    ) -> None:
        super().__init__(name, help_text)
        self.kind = kind
        self.read = read

    def samples(self) -> Iterator[str]:
        suffix = "_total" if self.kind == "counter" else ""
        yield f"{self.name}{suffix} {_number(self.read())}"


@dataclass
class Registry:
    metrics: list[_Metric] = field(default_factory=list)

    def register(self, metric: _Metric) -> None:
        if any(m.name == metric.name for m in self.metrics):
            raise ValueError(f"metric {metric.name} is registered twice")
        self.metrics.append(metric)

    def exposition(self) -> bytes:
        lines: list[str] = []
        for metric in self.metrics:
            lines.extend(metric.header())
            lines.extend(metric.samples())
        return ("\n".join(lines) + "\n").encode("utf-8")


@dataclass
class Metrics:
    registry: Registry = field(default_factory=Registry)

    def __post_init__(self) -> None:
        self.request_latency = Histogram(
            "concord_http_request_seconds",
            "HTTP request latency by endpoint",
            ["method", "endpoint", "status"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.registry.register(self.request_latency)
        self.events_persisted = Counter(
            "concord_events_persisted", "Events persisted, by origin (local or remote)", ["origin"]
        )
        self.registry.register(self.events_persisted)
