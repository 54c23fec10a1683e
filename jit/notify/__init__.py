"""Notifications: an outbox written in the causing transaction, delivered by the worker."""
