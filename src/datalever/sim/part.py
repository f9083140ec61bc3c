"""The simulator's declaration: commands only (it has no tables and no routes, and imports only economy)."""

from datalever.part import Part, commands

PART = Part(name="sim", commands=commands("datalever.sim.commands"))
