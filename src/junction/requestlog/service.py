"""The request log as the server runs it: the store, its writer, the settings."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from junction.config import Config, ConfigError, RequestLogSettings
from junction.gateway.accounting import Accountant
from junction.requestlog.feedback import FeedbackStore, open_feedback
from junction.requestlog.rows import Redaction
from junction.requestlog.store import LogStore, connect
from junction.requestlog.writer import RequestLogWriter
from junction.stores.open import database_url
from junction.stores.urls import DEFAULT_DATABASE_URL

log = logging.getLogger("junction.requestlog")


@dataclass(slots=True)
class RequestLog:
    store: LogStore
    writer: RequestLogWriter
    settings: RequestLogSettings
    redaction: Redaction
    feedback: FeedbackStore | None = None
    """Quality feedback on logged requests (POST /v1/feedback), same database."""

    def keeps_body(self, principal: object) -> bool:
        """Whether a request's body goes in its row: the caller's own setting
        (key, else team: ``Principal.store_bodies``), else the config's."""
        own = getattr(principal, "store_bodies", None)
        return self.settings.store_bodies if own is None else bool(own)

    async def close(self) -> None:
        await self.writer.close()
        await self.store.close()
        if self.feedback is not None:
            await self.feedback.close()


async def open_request_log(
    config: Config, accountant: Accountant, env: Mapping[str, str] = os.environ
) -> RequestLog | None:
    """The log, listening to ``accountant`` (None when off or no database)."""
    settings = config.request_log
    url = database_url(config, env)
    if settings.enabled is False or (url is None and not settings.enabled):
        return None
    if url == "memory://":
        if settings.enabled:
            raise ConfigError(
                "request_log.enabled needs a database: stores.database_url is memory://"
            )
        return None  # a throw-away gateway keeps no log
    url = url or DEFAULT_DATABASE_URL
    store = await connect(url)
    writer = RequestLogWriter(
        store,
        batch_size=settings.batch_size,
        flush_interval=settings.flush_interval,
        max_queue=settings.max_queue,
        retention_days=settings.retention_days,
        refused_per_second=settings.refused_rows_per_second,
    )
    writer.start()
    accountant.listeners.append(writer.listen)
    redaction = Redaction.of(settings.redact_patterns, settings.redact_keys)
    log.info("request log on (%s)", url.split(":", 1)[0])
    return RequestLog(store, writer, settings, redaction, await open_feedback(url))
