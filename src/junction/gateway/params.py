"""Parameters a target cannot take: drop them with a warning, or refuse.

The support sets are data (each codec's ``PARAMS`` table less the vendor's
``unsupported`` quirk). The request's ``drop_params`` field, else the
model's, else the server's, decides which.
"""

from __future__ import annotations

import msgspec

from junction.gateway.routes import Endpoint
from junction.types import ChatRequest, GatewayError

_RESET: dict[str, object] = {
    "stop": [],
    "tools": [],
    "n": 1,
    "logprobs": False,
}


def fit(
    request: ChatRequest, endpoint: Endpoint, drop: bool, given: set[str] | None = None
) -> tuple[ChatRequest, list[str]]:
    """The request as this endpoint can take it, and the warnings to record.

    ``given`` is ``request.given()`` when the caller has it already. Raises
    ``GatewayError(unsupported_parameter)`` when ``drop`` is off.
    """
    asked = request.given() if given is None else given
    if asked <= endpoint.supported:
        return request, []
    missing = sorted(asked - endpoint.supported)
    if not missing:
        return request, []
    if not drop:
        names = ", ".join(missing)
        raise GatewayError(
            "unsupported_parameter",
            f"{endpoint.label} ({endpoint.dialect}) does not support: {names}. "
            "Remove the parameter, or send drop_params: true to have it dropped.",
            param=missing[0],
            code="unsupported_parameter",
        )
    changes = {name: _RESET.get(name) for name in missing}
    if "tools" in changes:
        changes["tool_choice"] = None
    warnings = [f"{endpoint.label} does not support {name}; it was dropped" for name in missing]
    return msgspec.structs.replace(request, **changes), warnings
