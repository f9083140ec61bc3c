"""The credits part's declaration: the ledger's HTTP routes and commands, and the API-key table they use.

The api_keys table is declared in the web layer (`web/models.py`, every router authenticates against it);
this part registers it because its `keys` commands create the keys.
"""

from datalever.part import Part, commands, routes, tables

PART = Part(
    name="credits",
    metadata=tables("datalever.web.models"),
    router=routes("datalever.credits.routes"),
    commands=commands("datalever.credits.commands"),
)
