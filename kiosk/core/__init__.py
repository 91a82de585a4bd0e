"""Kiosk logic without Qt: what screen comes next, the rules, the outbox and its sync (docs/KIOSK.md)."""
