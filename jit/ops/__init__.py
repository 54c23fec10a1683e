"""Operating JIT: health and readiness probes, Prometheus metrics, structured logs."""
