"""Adapters that carry a notification to a receiver: signed webhooks, SMTP, Apprise."""
