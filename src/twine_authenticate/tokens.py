"""What a JSON Web Token says about itself, for messages only.

A CI's OIDC token names the identity an exchange was refused for (repository, workflow,
subject). Its claims are read, never verified (the service that receives it does that), and
the token itself is never shown: only the claims a user needs to fix a trust setting.
"""

from __future__ import annotations


def unverified_claims(token: str) -> dict[str, object]:
    """The token's payload as a dict; empty when it is not a JWT."""
    import base64
    import json

    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


def describe_claims(token: str, names: tuple[str, ...]) -> str:
    """``name=value`` for each claim present, in order: what the identity looked like."""
    claims = unverified_claims(token)
    shown = []
    for name in names:
        value = claims.get(name)
        if isinstance(value, list):
            value = ",".join(str(item) for item in value)
        if isinstance(value, (str, int)):
            shown.append(f"{name}={value}")
    return ", ".join(shown) or "no readable claims"
