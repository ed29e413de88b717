"""Prometheus metrics of the API: latency histograms by route, method and status."""

import os


class Metrics:
    """Latency histograms by route template, method and status; their ``_count`` series are the
    request counts (a separate counter would cost another shared-memory write per request). With
    PROMETHEUS_MULTIPROC_DIR set (footcast serve sets it) every worker writes its own files and
    /metrics adds all workers up."""

    def __init__(self) -> None:
        # prometheus_client picks its multi-process storage at import, from the environment.
        import prometheus_client as prom

        self._prom = prom
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = prom.CollectorRegistry()
        labels = ("route", "method", "status")
        self.latency = prom.Histogram(
            "footcast_http_request_duration_seconds",
            "Time from request to the end of the response",
            labels,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.latency.labels(route, method, str(status)).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        prom = self._prom
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = prom.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = self.registry
        return prom.generate_latest(registry), prom.CONTENT_TYPE_LATEST
