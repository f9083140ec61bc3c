"""datalever: a credit economy for AI use that gives the people whose data built it a real share."""

__version__ = "0.1.0"
