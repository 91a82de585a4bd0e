"""Device drivers: one folder per device kind (protocol, transport, fake, emulator)."""
