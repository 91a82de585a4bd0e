"""Pure rules from the standards, shared by the server, the kiosk and the drivers (no I/O)."""
