"""Operating JIT: health and readiness probes, Prometheus metrics, structured logs, and the
deployment id that keeps one Redis database to one deployment."""
