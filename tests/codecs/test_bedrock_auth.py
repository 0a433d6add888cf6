"""Bedrock credentials: SigV4 signatures checked by recomputing them from the
AWS Signature Version 4 specification (hashlib / hmac, not botocore), bearer
API keys, and the signing region."""

from __future__ import annotations

import datetime
import hashlib
import hmac
from urllib.parse import quote, urlsplit

import pytest
import yarl

from junction.codecs.base import Quirks, Target
from junction.codecs.bedrock_converse import CODEC
from junction.types import ChatRequest, EmbeddingRequest, HttpRequest, Message, TextPart

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REQUEST = ChatRequest(model="m", messages=[Message(role="user", content=[TextPart("Hi")])])


def _target(base_url: str, key: str | None, **kw: object) -> Target:
    return Target(
        provider="bedrock",
        base_url=base_url,
        model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        api_key=key,
        **kw,  # type: ignore[arg-type]
    )


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def expected_signature(http: HttpRequest, secret: str, region: str) -> tuple[str, str]:
    """(SignedHeaders, Signature) per the SigV4 spec, for what is actually sent."""
    url = urlsplit(http.url)
    headers = {
        k.lower(): v.strip() for k, v in http.headers.items() if k.lower() != "authorization"
    }
    headers["host"] = url.netloc
    names = sorted(headers)
    # Non-S3 services: each path segment of the (already encoded) path is encoded again.
    canonical_uri = "/".join(quote(seg, safe="-_.~") for seg in url.path.split("/"))
    canonical = "\n".join(
        [
            http.method,
            canonical_uri,
            url.query,
            "".join(f"{n}:{headers[n]}\n" for n in names),
            ";".join(names),
            hashlib.sha256(http.body).hexdigest(),
        ]
    )
    stamp = headers["x-amz-date"]
    scope = f"{stamp[:8]}/{region}/bedrock/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(f"AWS4{secret}".encode(), stamp[:8])
    for part in (region, "bedrock", "aws4_request"):
        key = _hmac(key, part)
    return ";".join(names), hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _authorization(http: HttpRequest) -> dict[str, str]:
    value = http.headers["authorization"]
    scheme, _, rest = value.partition(" ")
    assert scheme == "AWS4-HMAC-SHA256"
    return dict(item.strip().split("=", 1) for item in rest.split(","))


@pytest.mark.parametrize(
    ("base_url", "api_version", "region"),
    [
        ("https://bedrock-runtime.us-east-1.amazonaws.com", None, "us-east-1"),
        ("https://bedrock-runtime.eu-west-3.amazonaws.com", "ignored", "eu-west-3"),
        ("https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com", None, "us-gov-west-1"),
        ("http://127.0.0.1:8900", "ap-southeast-2", "ap-southeast-2"),
        ("https://vpce-123.bedrock-runtime.example.internal", None, "us-east-1"),
    ],
)
def test_sigv4_signature_matches_the_spec(
    base_url: str, api_version: str | None, region: str
) -> None:
    target = _target(base_url, f"{AKID}:{SECRET}", api_version=api_version)
    http = CODEC.encode_request(REQUEST, target)
    auth = _authorization(http)
    stamp = http.headers["x-amz-date"]
    assert auth["Credential"] == f"{AKID}/{stamp[:8]}/{region}/bedrock/aws4_request"
    signed, signature = expected_signature(http, SECRET, region)
    assert auth["SignedHeaders"] == signed
    assert auth["Signature"] == signature
    assert "x-amz-security-token" not in http.headers


def test_session_token_is_sent_and_signed() -> None:
    token = "FwoGZXIvYXdzEJr//////////wEaDNtoken+/="
    target = _target("https://bedrock-runtime.us-west-2.amazonaws.com", f"{AKID}:{SECRET}:{token}")
    http = CODEC.encode_request(REQUEST, target)
    assert http.headers["x-amz-security-token"] == token
    auth = _authorization(http)
    signed, signature = expected_signature(http, SECRET, "us-west-2")
    assert auth["SignedHeaders"] == signed
    assert "x-amz-security-token" in signed.split(";")
    assert auth["Signature"] == signature


def test_signing_time_comes_from_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.auth

    fixed = datetime.datetime(2024, 1, 2, 3, 4, 5)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: fixed)
    http = CODEC.encode_request(
        REQUEST, _target("https://bedrock-runtime.us-east-1.amazonaws.com", f"{AKID}:{SECRET}")
    )
    assert http.headers["x-amz-date"] == "20240102T030405Z"
    assert _authorization(http)["Credential"].startswith(f"{AKID}/20240102/us-east-1/")
    assert _authorization(http)["Signature"] == expected_signature(http, SECRET, "us-east-1")[1]


def test_signed_path_is_the_path_sent() -> None:
    """aiohttp (yarl) sends the URL's path in its normalised form; the signature
    covers that form, so it must already be it (``:`` literal, ``/`` in an ARN as %2F)."""
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc"
    for model in ("us.amazon.nova-micro-v1:0", arn):
        target = Target(
            provider="bedrock",
            base_url="https://bedrock-runtime.us-east-1.amazonaws.com",
            model=model,
            api_key=f"{AKID}:{SECRET}",
        )
        http = CODEC.encode_request(REQUEST, target)
        path = urlsplit(http.url).path
        assert yarl.URL(http.url).raw_path == path
        assert path.split("/")[2].replace("%2F", "/") == model
    assert "%2F" in path


def test_embeddings_are_signed_too() -> None:
    target = Target(
        provider="bedrock",
        base_url="https://bedrock-runtime.us-east-1.amazonaws.com",
        model="amazon.titan-embed-text-v2:0",
        api_key=f"{AKID}:{SECRET}",
    )
    http = CODEC.encode_embeddings(EmbeddingRequest(model="e", input=["hi"]), target)
    assert http.url.endswith("/model/amazon.titan-embed-text-v2:0/invoke")
    assert _authorization(http)["Signature"] == expected_signature(http, SECRET, "us-east-1")[1]


def test_bedrock_api_key_is_a_bearer_token() -> None:
    key = "ABSKQmVkcm9ja0FQSUtleS1leGFtcGxlLWtleQ=="
    http = CODEC.encode_request(
        REQUEST, _target("https://bedrock-runtime.us-east-1.amazonaws.com", key)
    )
    assert http.headers["authorization"] == f"Bearer {key}"
    assert "x-amz-date" not in http.headers


def test_no_credentials() -> None:
    base = "https://bedrock-runtime.us-east-1.amazonaws.com"
    assert "authorization" not in CODEC.encode_request(REQUEST, _target(base, None)).headers
    none = _target(base, f"{AKID}:{SECRET}", quirks=Quirks(auth="none"))
    assert "authorization" not in CODEC.encode_request(REQUEST, none).headers


def test_deployment_headers_are_signed() -> None:
    target = _target(
        "https://bedrock-runtime.us-east-1.amazonaws.com",
        f"{AKID}:{SECRET}",
        headers={"X-Amzn-Bedrock-Trace": "ENABLED"},
    )
    http = CODEC.encode_request(REQUEST, target)
    assert "x-amzn-bedrock-trace" in _authorization(http)["SignedHeaders"].split(";")
    assert _authorization(http)["Signature"] == expected_signature(http, SECRET, "us-east-1")[1]
