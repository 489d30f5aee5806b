"""JSON Web Tokens for the fake identity providers: HS256 with a key the fakes share, so that
the fake Entra (like the real one, which checks the issuer's keys) refuses a forged or altered
assertion. Only tests sign; the tool never verifies, it only reads claims for messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claims: dict[str, object], key: bytes, *, lifetime: int = 300) -> str:
    now = int(time.time())
    payload = {"iat": now, "nbf": now, "exp": now + lifetime, "jti": secrets.token_hex(8)}
    payload.update(claims)
    header = _encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _encode(json.dumps(payload).encode())
    signature = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_encode(signature)}"


def verify(token: str, key: bytes) -> dict[str, object] | None:
    """The claims of a token signed with ``key``; None for anything else."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _decode(parts[2])):
            return None
        claims = json.loads(_decode(parts[1]))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None
