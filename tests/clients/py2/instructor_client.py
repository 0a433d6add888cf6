"""instructor (from_openai, from_anthropic) against junction, in every mode
its registry offers for the OpenAI and Anthropic providers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import anthropic
import instructor
import openai
from _py2_common import KEY, SPEC, URL, Scenario, run_cells, typed_error
from instructor.core.exceptions import InstructorRetryException
from pydantic import BaseModel


class City(BaseModel):
    city: str
    country: str


def user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


openai_client = openai.AsyncOpenAI(base_url=f"{URL}/v1", api_key=KEY, max_retries=0)
anthropic_client = anthropic.AsyncAnthropic(base_url=URL, api_key=KEY, max_retries=0)


def patched(provider: str, mode: str) -> Any:
    if provider == "openai":
        return instructor.from_openai(openai_client, mode=instructor.Mode[mode])
    return instructor.from_anthropic(anthropic_client, mode=instructor.Mode[mode])


def scenarios(provider: str, modes: list[str]) -> dict[str, Scenario]:
    extra: dict[str, Any] = {} if provider == "openai" else {"max_tokens": 512}
    default = "TOOLS"

    async def chat(model: str) -> dict[str, Any]:
        raw = await patched(provider, default).create(
            model=model, messages=user(SPEC["echo_prompt"]), response_model=None, **extra
        )
        if provider == "openai":
            return {"text": raw.choices[0].message.content}
        return {"text": "".join(b.text for b in raw.content if b.type == "text")}

    async def stream(model: str) -> dict[str, Any]:
        partials = [
            p.model_dump()
            async for p in patched(provider, default).create_partial(
                model=model, messages=user(SPEC["structured_prompt"]), response_model=City, **extra
            )
        ]
        return {"partials": partials, "object": partials[-1] if partials else None}

    def structured(mode: str) -> Scenario:
        async def run(model: str) -> dict[str, Any]:
            if mode == "PARALLEL_TOOLS":  # its response model is an Iterable of models
                cities = await patched(provider, mode).create(
                    model=model,
                    messages=user(SPEC["structured_prompt"]),
                    response_model=Iterable[City],
                    max_retries=0,
                    **extra,
                )
                found = list(cities)
                return {
                    "object": found[0].model_dump() if found else None,
                    "validated": all(isinstance(c, City) for c in found),
                }
            city = await patched(provider, mode).create(
                model=model,
                messages=user(SPEC["structured_prompt"]),
                response_model=City,
                max_retries=0,
                **extra,
            )
            return {"object": city.model_dump(), "validated": isinstance(city, City)}

        return run

    async def unknown(_: str) -> Any:
        # instructor raises its own InstructorRetryException, caused by the
        # SDK's NotFoundError.
        not_found = openai.NotFoundError if provider == "openai" else anthropic.NotFoundError

        def status(exc: Any) -> Any:
            cause = exc.__cause__
            return cause.status_code if isinstance(cause, not_found) else None

        return await typed_error(
            lambda: patched(provider, default).create(
                model=SPEC["unknown_model"],
                messages=user("hi"),
                response_model=City,
                max_retries=0,
                **extra,
            ),
            InstructorRetryException,
            status,
        )

    out: dict[str, Scenario] = {"chat": chat, "stream": stream, "unknown model": unknown}
    out.update({f"structured: {mode}": structured(mode) for mode in modes})
    return out


def registered(provider: instructor.Provider) -> list[str]:
    from instructor.v2.core.registry import mode_registry

    return [mode.name for mode in mode_registry.get_modes_for_provider(provider)]


MODES = {
    "openai": registered(instructor.Provider.OPENAI),
    "anthropic": registered(instructor.Provider.ANTHROPIC),
}
run_cells(
    {
        "instructor-openai": scenarios("openai", MODES["openai"]),
        "instructor-anthropic": scenarios("anthropic", MODES["anthropic"]),
    },
    also={"instructor|modes|": MODES},
)
