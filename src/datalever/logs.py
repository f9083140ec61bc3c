"""Logging for the service: plain text by default, one JSON object per line with `--log-format json`
(python-json-logger), for log pipelines that index fields.

What is logged never carries request content: no bodies, no query strings, no SQL parameters
(engines are built with `hide_parameters=True`), no API keys; an unexpected error is logged with its
route template, method and exception type and traceback only.
"""

from __future__ import annotations

import logging
import os
import sys
from enum import StrEnum

ENV_LOG_FORMAT = "DATALEVER_LOG_FORMAT"
ENV_LOG_LEVEL = "DATALEVER_LOG_LEVEL"
LOGGER = "datalever"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def configure_logging(log_format: LogFormat | str | None = None, level: str | None = None) -> None:
    """Send datalever's and uvicorn's logs to stderr in the chosen format (idempotent)."""
    chosen = LogFormat(log_format or os.environ.get(ENV_LOG_FORMAT) or LogFormat.TEXT)
    handler = logging.StreamHandler(sys.stderr)
    if chosen is LogFormat.JSON:
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in (LOGGER, "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel((level or os.environ.get(ENV_LOG_LEVEL) or "INFO").upper())
