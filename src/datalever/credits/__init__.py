"""The credits part: the ledger's HTTP routes and commands (members, charges, grants, feedback, runs, keys)."""
