"""What the admin tests share: one gateway on a loopback socket, with the master key and a static
client key, over a test-only in-memory record store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from _admin_records import ListRecords

MASTER = "sk-master-test-0123456789"
CLIENT = "sk-client-test-0123456789"

CONFIG = f"""
server:
  master_key: {MASTER}
stores:
  database_url: "memory://"
keys:
  - name: app
    key: {CLIENT}
models:
  sim/openai:
    deployments:
      - {{provider: openai, model: gpt-4o-mini, base_url: "http://127.0.0.1:9/v1", api_key: k}}
"""


@dataclass
class Admin:
    url: str
    http: httpx.AsyncClient
    """Sends the master key."""
    anon: httpx.AsyncClient
    """Sends no key."""
    records: ListRecords
    gateway: Any
