"""Shared report building blocks: plots and self-contained HTML reports."""
