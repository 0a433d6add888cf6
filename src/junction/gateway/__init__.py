"""The policy layers and the attempt loop."""

from junction.gateway.core import Gateway
from junction.gateway.routes import Endpoint, ModelRoute, build_routes
from junction.gateway.trace import Attempt, Trace

__all__ = ["Attempt", "Endpoint", "Gateway", "ModelRoute", "Trace", "build_routes"]
