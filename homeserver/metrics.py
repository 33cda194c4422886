"""Prometheus metrics, one registry per application (no process-global state).

A small implementation of the Prometheus text exposition format (version 0.0.4) with
just what the server uses: labelled counters and histograms, and collectors that
report values read at scrape time. ``prometheus_client`` would cost the idle server
about 1.2 MB of resident memory (it imports ``http.server``, ``wsgiref``, ``gzip`` and
its process and platform collectors), a fortieth of the whole process.

Output matches ``prometheus_client.generate_latest`` for these metric kinds, without
its ``_created`` series: counters are exposed as ``<name>_total``, histograms as
``_bucket`` (cumulative, with ``le="+Inf"``), ``_count`` and ``_sum``, and numbers as
Go formats floats (``1.0``, ``+Inf``), label pairs sorted by name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def format_value(value: float) -> str:
    """A sample value as Prometheus (and Go) writes floats."""
    if value == math.inf:
        return "+Inf"
    if value == -math.inf:
        return "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value))


def _escape_label(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    pairs = ",".join(
        f'{n}="{_escape_label(v)}"' for n, v in sorted(zip(names, values, strict=True))
    )
    return "{" + pairs + "}"


@dataclass(frozen=True, slots=True)
class MetricFamily:
    """One metric reported by a collector at scrape time: ``kind`` is ``counter``
    (``name`` without ``_total``) or ``gauge``."""

    name: str
    documentation: str
    kind: str
    value: float


class Collector(Protocol):
    def collect(self) -> Iterable[MetricFamily]: ...


class _Metric:
    kind = ""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)

    def _check(self, values: tuple[str, ...]) -> None:
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name}: expected labels {self.labelnames}, got {values}")

    def expose(self) -> Iterator[str]:
        raise NotImplementedError


class _CounterChild:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("counters can only be incremented by non-negative amounts")
        self.value += amount


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name.removesuffix("_total"), documentation, labelnames)
        self._children: dict[tuple[str, ...], _CounterChild] = {}

    def labels(self, *values: str) -> _CounterChild:
        self._check(values)
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = _CounterChild()
        return child

    def inc(self, amount: float = 1.0) -> None:
        self.labels().inc(amount)

    def expose(self) -> Iterator[str]:
        total = self.name + "_total"
        yield f"# HELP {total} {_escape_help(self.documentation)}"
        yield f"# TYPE {total} counter"
        for values, child in self._children.items():
            yield f"{total}{_labels(self.labelnames, values)} {format_value(child.value)}"


class _HistogramChild:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * len(bounds)  # per bucket, not cumulative; the last is +Inf
        self.sum = 0.0

    def observe(self, amount: float) -> None:
        self.sum += amount
        for i, bound in enumerate(self.bounds):
            if amount <= bound:
                self.counts[i] += 1
                return


class Histogram(_Metric):
    kind = "histogram"

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        *,
        buckets: Sequence[float],
    ) -> None:
        super().__init__(name, documentation, labelnames)
        if "le" in self.labelnames:
            raise ValueError("'le' is reserved for histogram buckets")
        bounds = sorted(float(b) for b in buckets)
        if not bounds or bounds[-1] != math.inf:
            bounds.append(math.inf)
        self._bounds = tuple(bounds)
        self._children: dict[tuple[str, ...], _HistogramChild] = {}

    def labels(self, *values: str) -> _HistogramChild:
        self._check(values)
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = _HistogramChild(self._bounds)
        return child

    def observe(self, amount: float) -> None:
        self.labels().observe(amount)

    def expose(self) -> Iterator[str]:
        name = self.name
        yield f"# HELP {name} {_escape_help(self.documentation)}"
        yield f"# TYPE {name} histogram"
        names = (*self.labelnames, "le")
        for values, child in self._children.items():
            cumulative = 0
            for bound, count in zip(self._bounds, child.counts, strict=True):
                cumulative += count
                labels = _labels(names, (*values, format_value(bound)))
                yield f"{name}_bucket{labels} {format_value(cumulative)}"
            plain = _labels(self.labelnames, values)
            yield f"{name}_count{plain} {format_value(cumulative)}"
            yield f"{name}_sum{plain} {format_value(child.sum)}"


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}
        self._collectors: list[Collector] = []

    def add(self, metric: _Metric) -> None:
        if metric.name in self._metrics:
            raise ValueError(f"duplicate metric {metric.name}")
        self._metrics[metric.name] = metric

    def register(self, collector: Collector) -> None:
        self._collectors.append(collector)

    def expose(self) -> bytes:
        """Every metric in the text exposition format (``CONTENT_TYPE``)."""
        lines: list[str] = []
        for metric in self._metrics.values():
            lines.extend(metric.expose())
        for collector in self._collectors:
            for family in collector.collect():
                name = family.name + "_total" if family.kind == "counter" else family.name
                lines.append(f"# HELP {name} {_escape_help(family.documentation)}")
                lines.append(f"# TYPE {name} {family.kind}")
                lines.append(f"{name} {format_value(family.value)}")
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
        self.events_persisted = Counter(
            "concord_events_persisted",
            "Events persisted, by origin (local or remote)",
            ["origin"],
        )
        self.registry.add(self.request_latency)
        self.registry.add(self.events_persisted)
