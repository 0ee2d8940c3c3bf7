"""The enterprise side ("Manage"): connections, offers, the enterprise's view of its jobs,
reminders and outbound signed webhooks."""
