"""The ledger's Alembic revisions (ids kept from before the layout change).

The environment that runs them is `datalever.migrations`."""
