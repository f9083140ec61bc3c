"""Double-entry credit ledger: immutable balanced transfers between accounts, on SQLAlchemy."""
