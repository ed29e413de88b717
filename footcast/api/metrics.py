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


# Gauges of the published track record's rolling figures (footcast.models.track_record), one
# series per league ("all" too) and span: name -> (summary column, help).
TRACK_RECORD_GAUGES = {
    "footcast_track_record_matches": ("n", "Scored matches in the window"),
    "footcast_track_record_rps": ("rps", "Mean RPS of the published predictions"),
    "footcast_track_record_rps_diff_vs_market": (
        "diff_vs_market_rps",
        "Model minus pre-closing market mean RPS (below 0: the model is better)",
    ),
    "footcast_track_record_rps_diff_vs_market_ci_low": ("market_ci_low", "Its bootstrap 95% interval, low"),
    "footcast_track_record_rps_diff_vs_market_ci_high": ("market_ci_high", "The interval, high"),
    "footcast_track_record_rps_diff_vs_close": ("diff_vs_close_rps", "Model minus closing market mean RPS"),
    "footcast_track_record_rps_diff_vs_elo": ("diff_vs_elo_rps", "Model minus Elo mean RPS"),
    "footcast_track_record_calibration_error": ("calibration_error", "Expected calibration error (10 bins)"),
    "footcast_track_record_calibration_limit": (
        "calibration_limit",
        "The calibration error a calibrated forecaster stays under (99.9%); last_200 only",
    ),
}


def track_record_exposition(summary: list[dict], updated_at: str) -> bytes:
    """The rolling figures as Prometheus gauges (labels league, span), and the time of the
    computation; figures that are null (no reference price, window not judged) are left out."""
    from datetime import datetime

    import prometheus_client as prom
    from prometheus_client.core import GaugeMetricFamily

    families = []
    for name, (column, description) in TRACK_RECORD_GAUGES.items():
        family = GaugeMetricFamily(name, description, labels=["league", "span"])
        for row in summary:
            value = row.get(column)
            if value is not None:
                family.add_metric([row["league"], row["span"]], float(value))
        families.append(family)
    if updated_at:
        stamp = GaugeMetricFamily(
            "footcast_track_record_updated_timestamp_seconds", "When the published track record was computed"
        )
        stamp.add_metric([], datetime.fromisoformat(updated_at).timestamp())
        families.append(stamp)

    class Collector:
        def collect(self):
            return families

    registry = prom.CollectorRegistry()
    registry.register(Collector())
    return prom.generate_latest(registry)
