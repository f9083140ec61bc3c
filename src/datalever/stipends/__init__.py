"""Contributor stipends: the tables of platform links, imported contributions and payments (models.py)."""
