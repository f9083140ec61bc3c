"""The one registry of parts. The service mounts their routers, the CLI their commands and the migrations
their revisions and tables, all in this order; adding a part is one line here (see docs/architecture.md)."""

from __future__ import annotations

from datalever.credits.part import PART as credits
from datalever.flows.part import PART as flows
from datalever.ledger.part import PART as ledger
from datalever.part import Part
from datalever.sim.part import PART as sim
from datalever.stipends.part import PART as stipends
from datalever.webapp.part import PART as webapp

PARTS: tuple[Part, ...] = (ledger, credits, stipends, flows, sim, webapp)

assert len({part.name for part in PARTS}) == len(PARTS), "two parts share a name"
