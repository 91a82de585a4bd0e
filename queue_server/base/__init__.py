"""The foundation every other layer stands on: configuration, the database and its migrations,
errors, the hall clock, the audit chain and the one outbound delivery helper. Imports nothing
else from queue_server."""
