"""``/metrics``: the SFU's Prometheus exposition.

With prometheus-client installed, its registry renders the gauges (and the exposition
follows the library's format exactly); without it, the same few gauges are written in the
text format by hand (https://prometheus.io/docs/instrumenting/exposition_formats/), so the
SFU does not need the package to run.
"""

from __future__ import annotations

from collections.abc import Callable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Gauges = dict[str, tuple[str, Callable[[], float]]]


def exposition(gauges: Gauges) -> bytes:
    """``gauges``: metric name -> (help text, function read at scrape time)."""
    try:
        from prometheus_client import CollectorRegistry, Gauge, generate_latest
    except ImportError:
        lines = []
        for name, (help_text, read) in gauges.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {read()}"]
        return ("\n".join(lines) + "\n").encode()
    registry = CollectorRegistry()
    for name, (help_text, read) in gauges.items():
        Gauge(name, help_text, registry=registry).set_function(read)
    return bytes(generate_latest(registry))
