"""Reliability: the reconciler, job leases, revoke retries and alerts, drift detection."""
