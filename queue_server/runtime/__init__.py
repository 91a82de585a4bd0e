"""The running hall: the `Hall` that holds the database, configuration and collaborators, the
event broadcaster, and the background work (notifier, housekeeping, uploader)."""
