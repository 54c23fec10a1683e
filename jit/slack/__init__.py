"""Interactive Slack: signed interactions and the /jit command, decided through the same
services as the console, and messages the outbox keeps true (docs/notifications.md)."""
