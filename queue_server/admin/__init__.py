"""What administrators run: accounts and sessions, devices, the live hall configuration, the
oversight floor, reports and personal-data retention."""
