"""The worker process's Prometheus endpoint: the SDK's `temporal_*` series and warroom's own, on one port.

One Runtime per process (the SDK's rule). Exported the Prometheus way: counters end in `_total` and the SDK's
latencies are seconds, so warroom's dashboards and rules read like any other exporter's. Histogram buckets
for warroom's own histograms come from workflows/metrics.py, where the series are named.
"""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from workflows.metrics import HISTOGRAM_BUCKETS


def prometheus_config(bind_address: str) -> PrometheusConfig:
    return PrometheusConfig(
        bind_address=bind_address,
        counters_total_suffix=True,
        durations_as_seconds=True,
        histogram_bucket_overrides={name: list(buckets) for name, buckets in HISTOGRAM_BUCKETS.items()},
    )


def metrics_runtime(bind_address: str) -> Runtime:
    """Serves http://<bind_address>/metrics for as long as the process lives."""
    return Runtime(telemetry=TelemetryConfig(metrics=prometheus_config(bind_address)))
