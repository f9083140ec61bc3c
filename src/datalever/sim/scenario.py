"""Scenario files: every parameter of the ecosystem model, validated, with its default and where it comes from.

A scenario is a TOML file read with `datalever.documents.load_toml`, so a bad value is refused with
`section.key: reason` exactly like a bad policy file. Built-in scenarios ship in `datalever/sim/scenarios/`.
The `description` of each field states its unit and its source (a publication or an explicit assumption).
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from datalever.documents import ConfigError, StrictModel, load_toml, validate_mapping

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]


class RunSection(StrictModel):
    """Size and calendar of a run."""

    agents: int = Field(
        100_000,
        ge=100,
        le=50_000_000,
        description="Number of people simulated (a sample of the platform's population).",
    )
    weeks: int = Field(520, ge=1, le=5_200, description="Horizon in weekly steps (520 = ten years).")
    seed: int = Field(1, ge=0, description="Seed of the numpy.random.Generator; same seed, same results.")
    start: date = Field(
        date(2022, 12, 5),
        description="Calendar date of week 0; weeks map to calendar months for allowance, expiry and stipends.",
    )
    ai_launch_week: int = Field(
        0,
        ge=0,
        description="Week the AI assistant becomes available (ChatGPT: 2022-11-30). Before it, all go to the platform.",
    )


class PeopleSection(StrictModel):
    """The people: how much they ask, contribute, like the AI and give feedback."""

    question_rate_mean: PositiveFloat = Field(
        5.0, description="Mean questions per person per week, to the AI or the platform (assumption)."
    )
    question_rate_sigma: NonNegativeFloat = Field(
        1.2,
        le=3.0,
        description="Log-normal sigma of the per-person rate: a heavy tail of heavy askers (assumption).",
    )
    superuser_share: Probability = Field(0.01, description="Share of superusers (Nielsen's 90-9-1 rule, 2006).")
    occasional_share: Probability = Field(0.09, description="Share of occasional contributors (90-9-1 rule).")
    superuser_contribution_rate: Probability = Field(
        0.8,
        description="Contributions (answers) per platform visit of a superuser; with the next key the population "
        "average is about 1 per 100 visits (the 1% rule; Nielsen 2006) and superusers write ~80% of answers.",
    )
    occasional_contribution_rate: Probability = Field(
        0.02, description="Contributions per platform visit of an occasional contributor."
    )
    superuser_initial_reputation: NonNegativeFloat = Field(
        10_000.0, description="Platform reputation of a superuser at the start (assumption)."
    )
    occasional_initial_reputation: NonNegativeFloat = Field(
        100.0, description="Platform reputation of an occasional contributor at the start (assumption)."
    )
    linked_share_contributors: Probability = Field(
        0.5, description="Share of contributors who link their platform account to the AI service (assumption)."
    )
    linked_share_others: Probability = Field(0.05, description="Share of non-contributors who link (assumption).")
    ai_affinity_sd: NonNegativeFloat = Field(
        1.0, description="Spread (sd, utility units) of personal affinity for the AI assistant (assumption)."
    )
    feedback_rate_unpaid: Probability = Field(
        0.02, description="Share of AI answers that get feedback when feedback earns nothing (thumbs; assumption)."
    )
    feedback_rate_paid: Probability = Field(
        0.10, description="Share of AI answers that get feedback when feedback earns credits (assumption)."
    )
    spammer_share: Probability = Field(0.05, description="Share of people whose feedback is mostly spam (assumption).")
    feedback_accept_genuine: Probability = Field(0.9, description="Acceptance rate of genuine feedback (assumption).")
    feedback_accept_spam: Probability = Field(0.1, description="Acceptance rate of spam feedback (assumption).")

    @model_validator(mode="after")
    def _shares_fit(self) -> PeopleSection:
        if self.superuser_share + self.occasional_share > 1.0:
            raise ValueError("superuser_share + occasional_share must not exceed 1")
        return self


class PlatformSection(StrictModel):
    """The knowledge platform (the commons)."""

    depreciation_per_week: Probability = Field(
        0.002,
        description="Share of the knowledge stock that goes stale each week (~10%/year; assumption in line with "
        "studies of obsolete Stack Overflow answers, Zhang et al., TSE 2019).",
    )
    find_probability_max: Probability = Field(
        0.995, description="Chance a visitor finds an existing answer when the stock is very large (assumption)."
    )
    find_half_stock_per_agent: PositiveFloat = Field(
        0.015,
        description="Stock (answered questions per simulated person) at which the find chance is half its max; "
        "with the defaults about 1 in 100 searches ends in a new question (assumption).",
    )
    quality_found: Probability = Field(0.9, description="Quality of an existing answer found by search (assumption).")
    quality_posted: Probability = Field(
        0.75, description="Quality of an answer to a newly posted question, discounted for the wait (assumption)."
    )
    answer_positive_new: Probability = Field(
        0.45,
        description="Chance an answer by a newcomer (reputation near 1) ends with a score >= 1 (assumption; most "
        "Stack Overflow answers that are not upvoted stay at 0).",
    )
    answer_positive_expert: Probability = Field(
        0.9,
        description="Chance an answer by a very high-reputation answerer scores >= 1 (assumption; 93% for "
        "answerers above 10,000 reputation in the Bicycles Meta dump).",
    )
    answer_reputation_half: PositiveFloat = Field(
        1_000.0,
        description="Answerer reputation at which the chance of a score >= 1 is halfway from new to expert "
        "(assumption: the chance rises with reputation, as in the Bicycles Meta dump, 83% below 100 to 93%).",
    )
    answer_extra_vote_chance: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.6,
        description="Chance that an answer with score >= s reaches s + 1 (geometric tail of scores; assumption, "
        "79% in the Bicycles Meta dump).",
    )
    answer_accepted_share: Probability = Field(
        0.2, description="Chance an answer is accepted by the asker (assumption; 16% in the Bicycles Meta dump)."
    )


class AISection(StrictModel):
    """The AI assistant and its operator's economics."""

    quality_max: Probability = Field(0.95, description="Quality ceiling of the assistant (assumption).")
    knowledge_half_saturation: PositiveFloat = Field(
        0.3,
        description="Training knowledge, relative to the platform's initial stock, at which quality is half its "
        "ceiling (saturating returns to data; Kaplan et al. 2020 scaling laws motivate the shape).",
    )
    exogenous_growth_per_year: NonNegativeFloat = Field(
        0.15, description="Yearly growth of the knowledge an assistant extracts from the same data (assumption)."
    )
    retrain_every_weeks: int = Field(26, ge=1, description="Weeks between retrainings (assumption: twice a year).")
    training_lag_weeks: int = Field(
        26, ge=0, description="Age of the training snapshot at release (knowledge cut-off lag; assumption)."
    )
    compute_cost_cents_per_query: NonNegativeFloat = Field(
        0.36, description="Operator's compute cost per query (SemiAnalysis estimate for ChatGPT, 2023: ~$0.0036)."
    )
    revenue_cents_per_query: NonNegativeFloat = Field(
        0.2, description="Operator's revenue per free-tier query (ads/conversions; assumption)."
    )
    feedback_value_cents: NonNegativeFloat = Field(
        2.0, description="Value to the operator of one accepted piece of feedback (cost of a bought label; assumption)."
    )


class ChoiceSection(StrictModel):
    """The logit choice between asking the AI and going to the platform."""

    beta_quality: NonNegativeFloat = Field(4.0, description="Utility per unit of expected answer quality (assumption).")
    beta_price: NonNegativeFloat = Field(
        0.3, description="Disutility per credit of the price of one query (assumption)."
    )
    effort_ai: NonNegativeFloat = Field(0.0, description="Effort (utility units) of asking the AI (assumption).")
    effort_platform: NonNegativeFloat = Field(
        0.5, description="Effort of searching or posting on the platform (assumption)."
    )
    ai_affinity_mean: float = Field(
        2.6,
        ge=-20.0,
        le=20.0,
        description="Mean AI affinity (alternative-specific constant); fitted on Stack Overflow 2022-23 by calibrate.",
    )
    adoption_weeks: PositiveFloat = Field(
        36.0,
        le=1_000.0,
        description="Mean weeks until a person considers the AI at all; fitted on Stack Overflow 2022-23 by calibrate.",
    )


class PolicyResponseSection(StrictModel):
    """How people respond to the credit policy (the rules themselves come from the policy file)."""

    queries_per_session: int = Field(
        3, ge=1, le=100, description="AI queries per session, for session pricing (assumption)."
    )
    stipend_contribution_response: NonNegativeFloat = Field(
        0.25,
        le=10.0,
        description="Relative rise in a linked contributor's contribution rate when a stipend is offered (assumption).",
    )
    citation_click_through: Probability = Field(
        0.3, description="Share of AI citations of the platform that lead to a platform visit (assumption)."
    )


class Scenario(StrictModel):
    """A whole scenario file; every section and key has a default, so an empty file is the default scenario."""

    name: str = "custom"
    description: str = ""
    run: RunSection = RunSection()
    people: PeopleSection = PeopleSection()
    platform: PlatformSection = PlatformSection()
    ai: AISection = AISection()
    choice: ChoiceSection = ChoiceSection()
    policy_response: PolicyResponseSection = PolicyResponseSection()


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped inside the package."""
    folder = resources.files("datalever.sim") / "scenarios"
    return sorted(item.name.removesuffix(".toml") for item in folder.iterdir() if item.name.endswith(".toml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name, or a scenario file by path; ConfigError names any bad key."""
    text = str(name_or_path)
    if text in builtin_scenarios():
        with resources.as_file(resources.files("datalever.sim") / "scenarios" / f"{text}.toml") as path:
            return load_toml(path, Scenario)
    path = Path(text)
    if not path.exists() and not text.endswith(".toml"):
        known = ", ".join(builtin_scenarios())
        raise ConfigError(text, [f"no such built-in scenario or file (built-in: {known})"])
    return load_toml(path, Scenario)


def with_overrides(
    scenario: Scenario, *, agents: int | None = None, weeks: int | None = None, seed: int | None = None
) -> Scenario:
    """The scenario with run settings replaced, re-validated so a bad override is refused like a bad file."""
    data = scenario.model_dump()
    for key, value in (("agents", agents), ("weeks", weeks), ("seed", seed)):
        if value is not None:
            data["run"][key] = value
    return validate_mapping(data, Scenario, "command line")
