"""The self-service kiosk (自助取号机): `core` is plain Python (flows, rules, outbox, sync); `ui` is Qt."""
