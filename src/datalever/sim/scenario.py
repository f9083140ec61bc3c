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
        5.0, description="Mean questions per person per week, to the AI or the platform (assumption, range 2-10)."
    )
    question_rate_sigma: NonNegativeFloat = Field(
        1.2,
        le=3.0,
        description="Log-normal sigma of the per-person rate: a heavy tail of heavy askers (assumption, range "
        "0.5-1.5).",
    )
    superuser_share: Probability = Field(0.01, description="Share of superusers (Nielsen's 90-9-1 rule, 2006).")
    occasional_share: Probability = Field(0.09, description="Share of occasional contributors (90-9-1 rule).")
    superuser_contribution_rate: Probability = Field(
        0.8,
        description="Contributions (answers) per platform visit of a superuser; with the next key the population "
        "average is about 1 per 100 visits (the 1% rule; Nielsen 2006) and superusers write ~80% of answers (range "
        "0.4-1).",
    )
    occasional_contribution_rate: Probability = Field(
        0.02,
        description="Contributions per platform visit of an occasional contributor (90-9-1 rule with the key "
        "above; range 0.01-0.05).",
    )
    superuser_browse_answers_per_week: NonNegativeFloat = Field(
        2.0,
        le=1_000.0,
        description="Answers a superuser writes a week while browsing to answer (not while asking), at the "
        "platform's initial activity (assumption, range 0.5-5; answerers on Q&A sites mostly browse open "
        "questions, Mamykina et al., CHI 2011).",
    )
    occasional_browse_answers_per_week: NonNegativeFloat = Field(
        0.05,
        le=1_000.0,
        description="Answers an occasional contributor writes a week while browsing (assumption, range 0-0.2).",
    )
    superuser_initial_reputation: NonNegativeFloat = Field(
        10_000.0, description="Platform reputation of a superuser at the start (assumption, range 1,000-50,000)."
    )
    occasional_initial_reputation: NonNegativeFloat = Field(
        100.0, description="Platform reputation of an occasional contributor at the start (assumption, range 1-1,000)."
    )
    linked_share_contributors: Probability = Field(
        0.5,
        description="Share of contributors who link their platform account to the AI service (assumption, range "
        "0.1-0.9).",
    )
    linked_share_others: Probability = Field(
        0.05, description="Share of non-contributors who link (assumption, range 0-0.2)."
    )
    ai_affinity_sd: NonNegativeFloat = Field(
        1.0,
        description="Spread (sd, utility units) of personal affinity for the AI assistant (assumption, range 0.3-2).",
    )
    feedback_rate_unpaid: Probability = Field(
        0.02,
        description="Share of AI answers that get feedback when feedback earns nothing (thumbs; assumption, "
        "range 0.005-0.05).",
    )
    feedback_rate_paid: Probability = Field(
        0.10,
        description="Share of AI answers that get feedback when feedback earns credits (assumption, range 0.02-0.3).",
    )
    spammer_share: Probability = Field(
        0.05, description="Share of people whose feedback is mostly spam (assumption, range 0-0.2)."
    )
    feedback_accept_genuine: Probability = Field(
        0.9, description="Acceptance rate of genuine feedback (assumption, range 0.7-1)."
    )
    feedback_accept_spam: Probability = Field(
        0.1, description="Acceptance rate of spam feedback (assumption, range 0-0.3)."
    )

    @model_validator(mode="after")
    def _shares_fit(self) -> PeopleSection:
        if self.superuser_share + self.occasional_share > 1.0:
            raise ValueError("superuser_share + occasional_share must not exceed 1")
        return self


class PlatformSection(StrictModel):
    """The knowledge platform (the commons)."""

    not_found_share: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.01,
        description="Share of platform searches that find no existing answer (and become a new question) at the "
        "pre-AI steady state: about 1 in 100 (assumption, range 0.002-0.05).",
    )
    find_stock_elasticity: NonNegativeFloat = Field(
        0.25,
        le=5.0,
        description="Elasticity of the chance of finding an existing answer to the knowledge stock: find = (1 - "
        "not_found_share) * (stock / initial stock) ^ elasticity, at most 1; with 0.25, halving the stock cuts "
        "the find chance from 0.99 to 0.83 (assumption, range 0-1; 0 switches the effect off).",
    )
    duplicate_share: Probability = Field(
        0.1,
        description="Share of newly posted questions that duplicate an existing answer at the steady state; they "
        "are closed with a link, add no knowledge and cost answerers effort (assumption, range 0.02-0.25; 2.2% "
        "of questions in the Bicycles Meta dump are closed as duplicates).",
    )
    duplicate_handling_answers: NonNegativeFloat = Field(
        0.5,
        le=10.0,
        description="Answerer effort to flag and close one duplicate, in answers (assumption, range 0.1-2).",
    )
    time_to_answer_hours: PositiveFloat = Field(
        0.2,
        description="Median time to a first answer at the steady state (Mamykina et al., CHI 2011: 11 minutes "
        "on Stack Overflow); it grows as answers per new question fall.",
    )
    answer_patience_hours: PositiveFloat = Field(
        24.0,
        description="Wait at which a posted question's answer has lost 1 - 1/e of its value to the asker "
        "(assumption, range 2-72).",
    )
    trend_per_year: Annotated[float, Field(gt=-1.0, le=1.0)] = Field(
        -0.08,
        description="Pre-existing yearly trend of platform activity (questions brought and answers written), "
        "independent of the AI: -8%/year is the log-linear fit of Stack Overflow's 14-tag monthly questions "
        "2017-01 to 2022-10 (range -0.15, the 2021-01 to 2022-10 fit, to 0).",
    )
    browse_activity_elasticity: NonNegativeFloat = Field(
        0.5,
        le=5.0,
        description="Elasticity of browsing answerers' answers to the platform's new questions (relative to the "
        "steady state, capped at twice): fewer questions, less to answer and less reason to visit (assumption, "
        "range 0-1.5).",
    )

    depreciation_per_week: Probability = Field(
        0.002,
        description="Share of the knowledge stock that goes stale each week (~10%/year; assumption, range "
        "0.0005-0.01, in line with "
        "studies of obsolete Stack Overflow answers, Zhang et al., TSE 2019).",
    )
    quality_found: Probability = Field(
        0.9, description="Quality of an existing answer found by search (assumption, range 0.7-1)."
    )
    quality_posted: Probability = Field(
        0.75,
        description="Quality of an answer to a newly posted question, discounted for the wait (assumption, "
        "range 0.5-0.9).",
    )
    answer_positive_new: Probability = Field(
        0.45,
        description="Chance an answer by a newcomer (reputation near 1) ends with a score >= 1 (assumption, "
        "range 0.3-0.7; most "
        "Stack Overflow answers that are not upvoted stay at 0).",
    )
    answer_positive_expert: Probability = Field(
        0.9,
        description="Chance an answer by a very high-reputation answerer scores >= 1 (assumption, range "
        "0.8-0.95; 93% for "
        "answerers above 10,000 reputation in the Bicycles Meta dump).",
    )
    answer_reputation_half: PositiveFloat = Field(
        1_000.0,
        description="Answerer reputation at which the chance of a score >= 1 is halfway from new to expert "
        "(assumption, range 100-10,000: the chance rises with reputation, as in the Bicycles Meta dump, 83% "
        "below 100 to 93%).",
    )
    answer_extra_vote_chance: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.6,
        description="Chance that an answer with score >= s reaches s + 1 (geometric tail of scores; assumption, range "
        "0.4-0.8; 79% in the Bicycles Meta dump).",
    )
    answer_accepted_share: Probability = Field(
        0.2,
        description="Chance an answer is accepted by the asker (assumption, range 0.1-0.3; 16% in the Bicycles "
        "Meta dump).",
    )


class AISection(StrictModel):
    """The AI assistant and its operator's economics."""

    quality_max: Probability = Field(0.95, description="Quality ceiling of the assistant (assumption, range 0.8-1).")
    knowledge_half_saturation: PositiveFloat = Field(
        0.3,
        description="Training knowledge, relative to the platform's initial stock, at which quality is half its "
        "ceiling (saturating returns to data; Kaplan et al. 2020 scaling laws motivate the shape; assumed, "
        "range 0.05-1).",
    )
    exogenous_growth_per_year: Annotated[float, Field(ge=-0.5, le=5.0)] = Field(
        0.15,
        description="Mean yearly growth of AI capability: of the knowledge an assistant extracts from the same "
        "data (assumption, range 0-0.5).",
    )
    capability_growth_sd_per_year: NonNegativeFloat = Field(
        0.1,
        le=2.0,
        description="Uncertainty of the capability trajectory: sd of the log capability after one year (a "
        "random walk drawn from the seed, the same in the baseline and policy runs; assumption, range 0-0.3).",
    )
    duplicate_absorption: NonNegativeFloat = Field(
        0.5,
        le=10.0,
        description="How strongly the AI takes duplicate-type questions: the duplicate share of posted "
        "questions is duplicate_share * (1 - AI share) ^ absorption (0: duplicates fall with all questions; the "
        "essay's positive-sum case needs it high; del Rio-Chanona et al. 2023 found post-ChatGPT Stack Overflow "
        "posts scored as before, so assumed low, range 0-3).",
    )
    retrain_every_weeks: int = Field(
        26, ge=1, description="Weeks between retrainings (assumption, range 13-52: twice a year)."
    )
    training_lag_weeks: int = Field(
        26,
        ge=0,
        description="Age of the training snapshot at release (knowledge cut-off lag; assumption, range 13-52).",
    )
    compute_cost_cents_per_query: NonNegativeFloat = Field(
        0.36,
        description="Operator's compute cost per query on compute_cost_reference_date (SemiAnalysis, 2023-02-09: "
        "ChatGPT ~$694,444 a day, ~0.36 cents a query; range 0.05-1).",
    )
    compute_cost_reference_date: date = Field(
        date(2023, 2, 9), description="Date of compute_cost_cents_per_query and revenue_cents_per_query."
    )
    compute_cost_change_per_year: PositiveFloat = Field(
        0.5,
        le=2.0,
        description="Factor by which the compute cost per query changes each year: published API prices at "
        "constant capability fell ~10x a year (a16z, 2024-11-12), but queries move to newer, larger models; "
        "assumed 0.5 (range 0.1-1.0; see docs/simulator.md for the price history).",
    )
    revenue_cents_per_query: NonNegativeFloat = Field(
        0.5,
        description="Operator's revenue per query served on the reference date: ChatGPT Plus revenue (~$1.9B a "
        "year, FutureSearch, 2024-06) over ~0.5-1B prompts a day (OpenAI, 2024-12) is ~0.5-1 cent; a marginal "
        "free-tier query earns less (assumed 0.5, range 0-1.5).",
    )
    revenue_change_per_year: PositiveFloat = Field(
        1.0, le=2.0, description="Factor by which revenue per query changes each year (assumption, range 0.7-1.3)."
    )
    feedback_value_cents: NonNegativeFloat = Field(
        2.0,
        description="Value to the operator of one accepted piece of feedback (cost of a bought label; "
        "assumption, range 0.5-5).",
    )


class ChoiceSection(StrictModel):
    """The logit choice between asking the AI and going to the platform."""

    beta_quality: NonNegativeFloat = Field(
        4.0, description="Utility per unit of expected answer quality (assumption, range 1-8)."
    )
    beta_price: PositiveFloat = Field(
        0.3,
        description="Price coefficient: disutility per cent of the price of one query (a credit's price is "
        "converted at the policy's credit.value_cents); also converts utility to cents for consumer surplus "
        "(assumption, range 0.05-1).",
    )
    effort_ai: NonNegativeFloat = Field(
        0.0, description="Effort (utility units) of asking the AI (assumption, range 0-1)."
    )
    effort_platform: NonNegativeFloat = Field(
        0.5, description="Effort of searching or posting on the platform (assumption, range 0-1.5)."
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
        description="Scale (weeks) of the delay until a person considers the AI at all (the mean when "
        "adoption_shape is 1); fitted on Stack Overflow 2022-23 by calibrate.",
    )
    adoption_shape: PositiveFloat = Field(
        1.0,
        ge=0.2,
        le=5.0,
        description="Weibull shape of the adoption delay: 1 is exponential (fastest at launch), above 1 an S-shaped "
        "diffusion (Rogers 1962; Bass 1969) that starts slowly; fitted by calibrate.",
    )


class PolicyResponseSection(StrictModel):
    """How people respond to the credit policy (the rules themselves come from the policy file)."""

    queries_per_session: int = Field(
        3, ge=1, le=100, description="AI queries per session, for session pricing (assumption, range 1-10)."
    )
    stipend_contribution_response: NonNegativeFloat = Field(
        0.25,
        le=10.0,
        description="Relative rise in a linked contributor's contribution rate when a stipend is offered "
        "(assumption, range 0-0.5).",
    )
    citation_click_through: Probability = Field(
        0.3,
        description="Share of AI citations of the platform that lead to a platform visit (assumption, range 0.05-0.5).",
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
