"""The one HTTP client."""

from junction.transport.http import Limits, Reply, StreamReply, Transport

__all__ = ["Limits", "Reply", "StreamReply", "Transport"]
