"""Semantic routing: predict per prompt which candidate model answers well enough.

Datasets of routing outcomes (``dataset``), encoders (``encoders``, built-in ``lexical``),
routers (``routers``), metrics as RouteLLM and RouterBench compute them (``metrics``),
evaluation protocols (``protocols``, ``evaluate``), trained artifacts (``artifact``),
calibrated decisions (``calibrate``) and intent routes (``intents``). The ``e5`` sentence
encoder is an optional extra; ``vector_cache`` keeps a frozen encoder's vectors on disk.
Imports nothing of the gateway, server, transport or simulator.
"""

from junction.semantic import e5 as e5
from junction.semantic import lexical as lexical
from junction.semantic.artifact import TrainedRouter, load, save, train
from junction.semantic.dataset import Dataset, DatasetError, RoutingRow, load_dataset
from junction.semantic.encoders import Encoder, Features, make_encoder, register_encoder
from junction.semantic.intents import IntentRoute, IntentRouter
from junction.semantic.routers import Router, make_router, register_router
from junction.semantic.vector_cache import CachedEncoder

__all__ = [
    "CachedEncoder",
    "Dataset",
    "DatasetError",
    "Encoder",
    "Features",
    "IntentRoute",
    "IntentRouter",
    "Router",
    "RoutingRow",
    "TrainedRouter",
    "e5",
    "lexical",
    "load",
    "load_dataset",
    "make_encoder",
    "make_router",
    "register_encoder",
    "register_router",
    "save",
    "train",
]
