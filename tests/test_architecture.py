"""The flow is one way: inputs → sources → file → channel, with the commands on top and the
CLI above them. A module that imports from a later stage (or from the commands or the CLI)
would make the library depend on its front end; this test names any such import."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "twine_authenticate"

# What each part may not import (by module path prefix inside the package).
FORBIDDEN = {
    "cli": [],
    "commands": ["cli", "report"],
    "report": ["cli", "sources", "inputs", "storage", "pypirc", "settings"],
    "channels": ["cli", "commands", "sources", "inputs", "storage", "pypirc", "settings"],
    "sources": ["cli", "commands", "channels", "storage", "pypirc", "settings"],
    "azure": ["cli", "commands", "channels", "sources", "storage", "pypirc", "settings"],
    "inputs": ["cli", "commands", "channels", "sources", "storage", "pypirc"],
    "storage": ["cli", "commands", "channels", "sources", "inputs", "settings"],
    "pypirc": ["cli", "commands", "channels", "sources", "inputs", "storage", "settings"],
    "urls": ["cli", "commands", "channels", "sources", "inputs", "storage", "validation"],
    "transport": ["cli", "commands", "channels", "sources", "inputs", "storage", "azure"],
    "settings": ["cli", "commands", "channels", "sources", "storage"],
}


def imported_modules(path: Path) -> list[str]:
    """Absolute names (inside the package) of everything ``path`` imports, lazily or not."""
    relative = path.relative_to(PACKAGE).with_suffix("")
    package = list(relative.parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names += [module] + [f"{module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "twine_authenticate"
        ):
            names.append(node.module.removeprefix("twine_authenticate").lstrip("."))  # type: ignore[union-attr]
    return names


def test_no_module_imports_from_a_later_stage() -> None:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = path.relative_to(PACKAGE).with_suffix("").parts[0]
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in FORBIDDEN.get(part, []):
                problems.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert not problems, "\n".join(problems)


def test_the_check_sees_imports() -> None:
    """The test above can fail: it finds the commands' own (allowed) imports of sources."""
    found = imported_modules(PACKAGE / "commands" / "authenticate.py")
    assert "sources" in {module.split(".")[0] for module in found}
    assert "storage" in {module.split(".")[0] for module in found}
