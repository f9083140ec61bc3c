"""The web app part's Alembic revisions."""
