"""``/metrics`` in Prometheus' text format (prometheus-client): requests by protocol and status,
request latency, engine batch sizes and seconds, images waiting per model, errors by kind.

Example:
    >>> metrics = ServerMetrics()
    >>> metrics.request("v2", 200, 0.012)
    >>> b"zoo_requests_total" in metrics.exposition()
    True
"""

from __future__ import annotations

from typing import Any

#: The kind of error each status is counted as.
ERROR_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "bad_request",
    413: "too_large",
    503: "busy",
}
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServerMetrics:
    """The server's metrics, in a registry of their own (two servers in one process, as in
    tests, never share counts)."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "zoo_requests", "HTTP requests answered", ["protocol", "code"], registry=self.registry
        )
        self.latency = Histogram(
            "zoo_request_seconds",
            "Time from a request's arrival to its answer",
            ["protocol"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "zoo_batch_size",
            "Images per engine call",
            ["model"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "zoo_batch_seconds",
            "Seconds per engine call",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "zoo_queue_depth", "Images waiting for the engine", ["model"], registry=self.registry
        )
        self.errors = Counter(
            "zoo_errors", "Requests answered with an error, by kind", ["kind"],
            registry=self.registry,
        )  # fmt: skip

    def request(self, protocol: str, code: int, seconds: float) -> None:
        self.requests.labels(protocol, str(code)).inc()
        self.latency.labels(protocol).observe(seconds)
        if code >= 400:
            self.errors.labels(ERROR_KINDS.get(code, "internal" if code >= 500 else "other")).inc()

    def batch_observer(self, model: str) -> Any:
        """The ``on_batch`` of a model's batcher."""

        def observe(size: int, seconds: float) -> None:
            self.batch_size.labels(model).observe(size)
            self.batch_seconds.labels(model).observe(seconds)

        return observe

    def watch_queue(self, model: str, depth: Any) -> None:
        """Report ``depth()`` as the model's queue depth at every scrape."""
        self.queue_depth.labels(model).set_function(depth)

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)
