"""Service settings: where the database is, which policy file, and how keys are cached."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from datalever.locations import database_url as default_database_url

ENV_DATABASE_URL = "DATALEVER_DATABASE_URL"
ENV_POLICY = "DATALEVER_POLICY"
ENV_AUTO_UPGRADE = "DATALEVER_AUTO_UPGRADE"
ENV_BATCH_THREADS = "DATALEVER_BATCH_THREADS"
ENV_CHARGE_FAST_PATH = "DATALEVER_CHARGE_FAST_PATH"
ENV_RATE_LIMIT_PER_MINUTE = "DATALEVER_RATE_LIMIT_PER_MINUTE"
ENV_RATE_LIMIT_BURST = "DATALEVER_RATE_LIMIT_BURST"
ENV_MAX_BODY_BYTES = "DATALEVER_MAX_BODY_BYTES"
ENV_CHARGE_QUEUE_MAX = "DATALEVER_CHARGE_QUEUE_MAX"
ENV_CHARGE_WAIT_SECONDS = "DATALEVER_CHARGE_WAIT_SECONDS"


class Settings(BaseModel):
    """Everything `create_app` needs; `from_env` lets uvicorn workers rebuild the same settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = Field(default_factory=default_database_url)
    policy_path: Path | None = None
    auto_upgrade: bool = Field(default=True, description="Run `db upgrade` when the app is created.")
    auth_cache_seconds: float = Field(default=5.0, ge=0, description="How long a verified key stays cached.")
    pool_size: int = Field(default=10, gt=0)
    batch_threads: int = Field(default=1, gt=0, description="Threads that commit batches of charges.")
    charge_fast_path: bool = Field(
        default=True, description="Answer well-formed charges before FastAPI routing (same answers, less CPU)."
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests a member or platform key may make per minute (0: no limit)."
    )
    rate_limit_burst: int = Field(default=60, gt=0, description="Requests such a key may make at once.")
    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0, description="Larger request bodies get 413.")
    charge_queue_max: int = Field(
        default=4096, gt=0, description="Charges that may wait for a batch; more are answered 503 with Retry-After."
    )
    charge_wait_seconds: float = Field(
        default=30.0, gt=0, le=600, description="How long a charge waits for its batch before a 503 (retry is safe)."
    )

    @classmethod
    def from_env(cls) -> Settings:
        policy = os.environ.get(ENV_POLICY)
        return cls(
            database_url=default_database_url(os.environ.get(ENV_DATABASE_URL)),
            policy_path=Path(policy) if policy else None,
            auto_upgrade=os.environ.get(ENV_AUTO_UPGRADE, "1") == "1",
            batch_threads=int(os.environ.get(ENV_BATCH_THREADS, "1")),
            charge_fast_path=os.environ.get(ENV_CHARGE_FAST_PATH, "1") == "1",
            rate_limit_per_minute=int(os.environ.get(ENV_RATE_LIMIT_PER_MINUTE, "600")),
            rate_limit_burst=int(os.environ.get(ENV_RATE_LIMIT_BURST, "60")),
            max_body_bytes=int(os.environ.get(ENV_MAX_BODY_BYTES, str(4 * 1024 * 1024))),
            charge_queue_max=int(os.environ.get(ENV_CHARGE_QUEUE_MAX, "4096")),
            charge_wait_seconds=float(os.environ.get(ENV_CHARGE_WAIT_SECONDS, "30")),
        )

    def to_env(self) -> dict[str, str]:
        env = {ENV_DATABASE_URL: self.database_url, ENV_AUTO_UPGRADE: "1" if self.auto_upgrade else "0"}
        if self.policy_path is not None:
            env[ENV_POLICY] = str(self.policy_path)
        return env
