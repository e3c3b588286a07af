"""Accounts: registration, login factors, recovery, ID and password changes, lockout."""
