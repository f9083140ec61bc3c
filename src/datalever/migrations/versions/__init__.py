"""Revisions that belong to no single part (the merge that joined the stipends and flows branches)."""
