"""Appointments: time slots, booking and cancellation, check-in at the kiosk, no-show rules."""
