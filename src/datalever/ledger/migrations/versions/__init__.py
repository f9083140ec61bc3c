"""Alembic revisions. Each part adds its own file here, revising the latest revision it builds on."""
