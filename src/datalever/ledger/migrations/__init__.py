"""Alembic environment of the datalever schema (shipped inside the package so `datalever db upgrade` works)."""
