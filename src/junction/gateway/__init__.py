"""The policy layers and the attempt loop."""

from junction.gateway.attempts import Attempt, Trace
from junction.gateway.core import Gateway
from junction.gateway.routes import Endpoint, ModelRoute, build_routes

__all__ = ["Attempt", "Endpoint", "Gateway", "ModelRoute", "Trace", "build_routes"]
