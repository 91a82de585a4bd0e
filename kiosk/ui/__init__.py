"""The kiosk's Qt layer: renders `kiosk.core.screens.Screen` and forwards taps. No rules here."""
