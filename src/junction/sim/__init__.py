"""junction.sim: a provider simulator that speaks the real wire formats.

Five wire dialects through their codecs' server side: OpenAI chat
completions and embeddings, OpenAI responses, Anthropic messages, Gemini
generateContent / embeddings and Bedrock Converse / InvokeModel embeddings,
with deterministic answers, configurable latency and throughput, and
injected faults. See docs/simulator.md.
"""

from junction.sim.app import create_app, run, start
from junction.sim.profile import (
    FAULT_KINDS,
    FaultKind,
    Faults,
    ModelConfig,
    ModelSettings,
    Profile,
    ProfileError,
    load_profile,
    parse_profile,
)

__all__ = [
    "FAULT_KINDS",
    "FaultKind",
    "Faults",
    "ModelConfig",
    "ModelSettings",
    "Profile",
    "ProfileError",
    "create_app",
    "load_profile",
    "parse_profile",
    "run",
    "start",
]
