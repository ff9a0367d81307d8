"""Notifications from the session reports: a webhook, PR comments, regression issues."""
