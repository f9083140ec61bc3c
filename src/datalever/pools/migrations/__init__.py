"""The pools part's Alembic revisions."""
