"""The credit policy as pure rules, shared by the ledger service and the simulator.

Everything here is side-effect free, accepts scalars or NumPy arrays, and imports nothing else from
datalever: the live service and the simulator must run exactly the same rules.
"""

from datalever.economy.config import ConfigError, StrictModel
from datalever.economy.feedback import apply_verdicts, evenly_spread, feedback_reward, reputation_after
from datalever.economy.grants import allowance_due, expires_at, expiry_month_index, month_index, months_of_validity
from datalever.economy.money import credits_to_cents
from datalever.economy.nudge import NudgePolicy, citations_due, cites_platform
from datalever.economy.policy import Expiry, Policy, load_policy
from datalever.economy.pricing import next_session_position, query_price, session_total_price
from datalever.economy.spending import spend_order_key

__all__ = [
    "ConfigError",
    "Expiry",
    "NudgePolicy",
    "Policy",
    "StrictModel",
    "allowance_due",
    "apply_verdicts",
    "citations_due",
    "cites_platform",
    "credits_to_cents",
    "evenly_spread",
    "expires_at",
    "expiry_month_index",
    "feedback_reward",
    "load_policy",
    "month_index",
    "months_of_validity",
    "next_session_position",
    "query_price",
    "reputation_after",
    "session_total_price",
    "spend_order_key",
]
