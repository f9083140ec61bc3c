"""The flows part's Alembic revisions."""
