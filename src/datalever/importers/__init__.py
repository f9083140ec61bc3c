"""Streaming readers of real platform activity formats, yielding normalized contribution records."""
