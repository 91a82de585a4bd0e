"""The `hall` command line: one entry point for the server, kiosk, devices, tests and benchmarks."""
