"""Numbering, calling and routing: issuing tickets, who a window calls next, leases for offline
kiosks, anti-scalping, wait estimates and the spoken call. The domain every feature builds on."""
