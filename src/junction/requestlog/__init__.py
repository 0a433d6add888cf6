"""The request log: one row per request, written in batches, with hourly spend
rollups and the admin queries (docs/operations.md "Request log and spend")."""

from junction.requestlog.queries import LogQuery, SpendQuery
from junction.requestlog.service import RequestLog, open_request_log
from junction.requestlog.store import LogStore, connect
from junction.requestlog.writer import RequestLogWriter

__all__ = [
    "LogQuery",
    "LogStore",
    "RequestLog",
    "RequestLogWriter",
    "SpendQuery",
    "connect",
    "open_request_log",
]
