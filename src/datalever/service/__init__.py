"""The FastAPI service that runs the credit economy on the ledger."""
