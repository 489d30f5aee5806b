"""The README's examples, as the tests run them: each is the fenced block that follows an
``<!-- example: NAME -->`` comment, so what users copy is what the suite executes."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
_EXAMPLE = re.compile(r"<!-- example: (?P<name>[\w-]+) -->\s*\n```[\w-]*\n(?P<body>.*?)\n```", re.S)


def examples(path: Path = README) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _EXAMPLE.finditer(path.read_text(encoding="utf-8")):
        assert match["name"] not in found, f"two examples named {match['name']}"
        found[match["name"]] = match["body"]
    return found


def example(name: str, path: Path = README) -> str:
    found = examples(path)
    assert name in found, f"{path.name} has no example named {name}"
    return found[name]
