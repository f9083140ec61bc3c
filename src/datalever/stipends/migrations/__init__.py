"""The stipends part's Alembic revisions."""
