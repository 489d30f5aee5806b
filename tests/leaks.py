"""The secret-leak check: every secret a test registers is searched for, in every form a log
could show it (raw, Azure-escaped, JSON-escaped, URL-encoded, base64 alone or inside a Basic
header), in everything the tool and the pipeline steps printed. Lines whose whole purpose is
to register a secret with the CI's masker are the only place one may appear.

Failure messages name the secret by its label and the form found, never by its value.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

# Lines that talk to the CI itself: the agent masks or stores them, and does not show them.
MASK_LINE_PREFIXES = ("##vso[task.setsecret]", "::add-mask::", "##vso[task.setvariable ")


@dataclass
class Recorded:
    label: str
    text: str
    # Returns True for a line allowed to hold secrets (e.g. shell code meant for eval).
    allow_line: Callable[[str], bool] = field(default=lambda line: False)


def _base64_cores(secret: bytes) -> list[str]:
    """base64 of the secret at each of the three alignments it can have inside a longer
    encoded string, with the characters that depend on its neighbours cut off."""
    cores = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret + b"\0\0\0").decode()
        start = -(-offset * 4 // 3)  # ceil
        end = (offset + len(secret)) * 4 // 3
        core = encoded[start:end]
        if len(core) >= 8:
            cores.append(core)
    return cores


def secret_forms(secret: str) -> dict[str, str]:
    raw = secret.encode()
    forms = {
        "raw": secret,
        "azure-escaped": secret.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A"),
        "github-escaped": secret.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"),
        "json-escaped": json.dumps(secret)[1:-1],
        "url-encoded": quote(secret, safe=""),
        "form-encoded": quote_plus(secret, safe=""),
        "repr": repr(secret)[1:-1],
    }
    for index, core in enumerate(_base64_cores(raw)):
        forms[f"base64#{index}"] = core
    return {name: form for name, form in forms.items() if len(form) >= 6}


def find_leaks(secrets: dict[str, str], records: Iterable[Recorded]) -> list[str]:
    """Descriptions (without values) of every place a secret appears where it must not."""
    problems = []
    for record in records:
        for number, line in enumerate(record.text.splitlines(), start=1):
            if line.startswith(MASK_LINE_PREFIXES) or record.allow_line(line):
                continue
            for label, secret in secrets.items():
                for form_name, form in secret_forms(secret).items():
                    if form in line:
                        problems.append(
                            f"secret {label!r} appears ({form_name}) "
                            f"in {record.label}, line {number}"
                        )
    return problems
