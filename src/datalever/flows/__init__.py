"""Data-flow graph, withholding what-ifs, data-use preferences and the plural alignment score."""
