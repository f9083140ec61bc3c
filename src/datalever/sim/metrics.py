"""Every weekly metric of the model, declared once: who produces it, its unit and how it adds up over a run.

The engine's tallies, the weekly series, `series.parquet`'s columns, horizon totals and the report's table
are all derived from this one declaration, so a new metric is one line here plus the step that fills it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Owner = Literal["people", "platform", "operator"]
Horizon = Literal["sum", "last", "mean"]


@dataclass(frozen=True)
class Metric:
    """One weekly metric. `owner` says which set computes it: the people (summed over blocks of people each
    week), the platform, or the AI operator; `horizon` says how the weekly values add up over a whole run."""

    name: str
    owner: Owner
    unit: str
    horizon: Horizon
    description: str


def _m(name: str, owner: Owner, unit: str, horizon: Horizon, description: str) -> Metric:
    return Metric(name, owner, unit, horizon, description)


DECLARED: tuple[Metric, ...] = (
    # -- people (tallied by each block of people, summed over blocks) -----------------------------------
    _m("questions", "people", "questions", "sum", "Questions people ask, to any channel."),
    _m("ai_wanted", "people", "questions", "sum", "Questions people chose to take to the AI."),
    _m("ai_queries", "people", "queries", "sum", "AI queries served (wanted minus those turned away)."),
    _m("fallback_questions", "people", "questions", "sum", "AI questions sent to the platform for want of credits."),
    _m("people_out_of_credits", "people", "people", "sum", "People who could not pay for all their AI queries."),
    _m("citations", "people", "citations", "sum", "AI answers that cite the platform (the nudge)."),
    _m("citation_visits", "people", "visits", "sum", "Platform visits that follow a citation."),
    _m("answers", "people", "answers", "sum", "Answers contributed to the platform (asking and browsing)."),
    _m("browse_answers", "people", "answers", "sum", "Expected answers written while browsing to answer."),
    _m("active_contributors", "people", "people", "mean", "Contributors with at least one answer this week."),
    _m("feedback_given", "people", "pieces", "sum", "Feedback submitted on AI answers."),
    _m("feedback_accepted", "people", "pieces", "sum", "Feedback accepted by the spam filter."),
    _m("credits_spent", "people", "credits", "sum", "Credits spent on AI queries."),
    _m("credits_feedback", "people", "credits", "sum", "Credits earned for accepted feedback."),
    _m("credits_stipend", "people", "credits", "sum", "Stipend credits for active linked contributors."),
    _m("stipend_recipients", "people", "people", "sum", "Members paid a stipend (member-months)."),
    _m("credits_allowance", "people", "credits", "sum", "Allowance credits issued."),
    _m("credits_expired", "people", "credits", "sum", "Credits that expired unspent."),
    _m("credits_outstanding", "people", "credits", "last", "Credits held by people (the operator's liability)."),
    _m("surplus_utils", "people", "utility", "sum", "Expected consumer surplus of the week's questions (log-sum)."),
    # -- platform --------------------------------------------------------------------------------------------
    _m("platform_questions", "platform", "questions", "sum", "Questions brought to the platform (after the trend)."),
    _m("platform_visits", "platform", "visits", "sum", "Platform visits: questions brought plus citation visits."),
    _m("questions_posted", "platform", "questions", "sum", "New questions posted (no existing answer found)."),
    _m("duplicates_posted", "platform", "questions", "sum", "Posted questions that duplicate an existing answer."),
    _m("posted_answered", "platform", "questions", "sum", "New (non-duplicate) questions that got an answer."),
    _m("find_probability", "platform", "share", "last", "Chance a search finds an existing answer."),
    _m("knowledge_stock", "platform", "answered questions", "last", "The platform's stock of answered questions."),
    _m("platform_quality", "platform", "quality 0-1", "last", "Expected quality of taking a question there."),
    _m("answered_share", "platform", "share", "mean", "Share of new questions that get an answer."),
    _m("time_to_answer_hours", "platform", "hours", "mean", "Median time to a first answer."),
    _m("browse_factor", "platform", "ratio", "mean", "Browsing answerers' activity against the steady state."),
    _m("trend_factor", "platform", "ratio", "last", "Pre-existing trend of platform activity (1 at the start)."),
    # -- AI and its operator ---------------------------------------------------------------------------------
    _m("ai_quality", "operator", "quality 0-1", "last", "The AI assistant's answer quality."),
    _m("ai_capability", "operator", "ratio", "last", "Capability multiplier of the current model (uncertain path)."),
    _m("ai_share", "operator", "share", "mean", "Share of questions answered by the AI."),
    _m("questions_answered", "operator", "questions", "sum", "Questions answered by the AI or the platform."),
    _m("answer_quality_total", "operator", "quality-weighted answers", "sum", "Answers weighted by quality."),
    _m("compute_cost_cents_per_query", "operator", "cents", "mean", "Compute cost of one query this week."),
    _m("revenue_cents_per_query", "operator", "cents", "mean", "Revenue of one query this week."),
    _m("compute_cost_cents", "operator", "cents", "sum", "Operator's compute cost."),
    _m("revenue_cents", "operator", "cents", "sum", "Operator's revenue from queries served."),
    _m("feedback_value_cents", "operator", "cents", "sum", "Value of accepted feedback to the operator."),
    _m("operator_net_cents", "operator", "cents", "sum", "Revenue - compute + feedback value - earned credits."),
    _m("credit_liability_cents", "operator", "cents", "last", "Outstanding credits at their published value."),
    _m("credits_issued", "operator", "credits", "sum", "Credits issued: allowance, feedback and stipends."),
)

BY_NAME = {m.name: m for m in DECLARED}
PEOPLE_FIELDS = tuple(m.name for m in DECLARED if m.owner == "people")
WORLD_FIELDS = tuple(m.name for m in DECLARED if m.owner != "people")
NAMES = tuple(m.name for m in DECLARED)
INDEX = {name: i for i, name in enumerate(PEOPLE_FIELDS)}  # position of each people metric in a block's tally
assert len(BY_NAME) == len(DECLARED), "metric names must be unique"
