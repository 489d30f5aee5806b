"""Build the Azure DevOps extension: dist/<publisher>.twine-authenticate-<version>.vsix.

Run through ``scripts/build-extension`` (see there). Steps:

1. tfx-cli, pinned in extension/package-lock.json, installed with ``npm ci`` into
   extension/node_modules (again only when the lock file changes);
2. tomli (for ``pyproject.toml`` declarations on Python 3.10), pinned with its hash in
   extension/bundle-requirements.txt, downloaded once with pip into build/extension-cache/;
3. the extension staged in build/extension/: the task folder with src/twine_authenticate and
   tomli copied into its lib/ (no bytecode), and the version of src/twine_authenticate/_version.py
   written into task.json and vss-extension.json;
4. ``tfx extension create`` packs it, offline.

Steps 1 and 2 need the npm registry and PyPI the first time; after that the build is offline.
A build whose inputs have not changed since the last one says so and keeps the .vsix.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "extension"
TASK_NAME = "TwineAuthenticatePy"
PACKAGE = ROOT / "src" / "twine_authenticate"
BUNDLE_REQUIREMENTS = EXTENSION / "bundle-requirements.txt"
BUILD = ROOT / "build"
STAGE = BUILD / "extension"
CACHE = BUILD / "extension-cache"
STAMP = CACHE / "last-build.json"
DIST = ROOT / "dist"
NODE_MODULES = EXTENSION / "node_modules"
TFX = NODE_MODULES / ".bin" / ("tfx.cmd" if os.name == "nt" else "tfx")
# A .vsix bigger than this means something that should not ship was packed.
MAX_VSIX_BYTES = 1024 * 1024
_SKIPPED = {"__pycache__", "node_modules", ".DS_Store"}


class BuildError(Exception):
    pass


def say(message: str) -> None:
    print(f"build-extension: {message}", flush=True)


def package_version() -> tuple[str, dict[str, int]]:
    text = (PACKAGE / "_version.py").read_text(encoding="utf-8")
    match = re.search(r"""__version__\s*=\s*["']([^"']+)["']""", text)
    if not match:
        raise BuildError("no __version__ in src/twine_authenticate/_version.py")
    version = match[1]
    parts = re.fullmatch(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if not parts:
        raise BuildError(
            f"version {version!r} cannot be a task version, which is Major.Minor.Patch "
            "numbers only; the agent caches tasks by version, so each upload needs a new one."
        )
    major, minor, patch = (int(part or 0) for part in parts.groups())
    return f"{major}.{minor}.{patch}", {"Major": major, "Minor": minor, "Patch": patch}


def _files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if any(part in _SKIPPED for part in relative.parts) or path.suffix == ".pyc":
            continue
        if path.is_file():
            yield path


def inputs_digest(publisher: str | None) -> str:
    """What the .vsix is made from: a change to any of it means building again."""
    digest = hashlib.sha256(f"publisher={publisher}\n".encode())
    sources = [*_files(EXTENSION), *_files(PACKAGE), Path(__file__), ROOT / "LICENSE"]
    for path in sources:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _run(argv: list[str], cwd: Path, what: str) -> str:
    try:
        completed = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=600
        )
    except FileNotFoundError:
        raise BuildError(f"{what}: {argv[0]} is not installed") from None
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()
        raise BuildError(f"{what} failed (exit code {completed.returncode}):\n{output}")
    return completed.stdout + completed.stderr


def ensure_tfx() -> None:
    """tfx-cli exactly as the lock file pins it, installed without running any package's
    install scripts."""
    lock = EXTENSION / "package-lock.json"
    stamp = NODE_MODULES / f".installed-{hashlib.sha256(lock.read_bytes()).hexdigest()[:16]}"
    if TFX.exists() and stamp.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm is not installed; install Node.js 20 or newer with npm")
    say("installing tfx-cli from extension/package-lock.json (npm ci).")
    _run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], EXTENSION, "npm ci")
    for old in NODE_MODULES.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def _pinned_requirement() -> tuple[str, str, str]:
    """(name, version, sha256) of the one line of bundle-requirements.txt."""
    for line in BUNDLE_REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})", line)
        if match:
            return match[1], match[2], match[3]
    raise BuildError(f"{BUNDLE_REQUIREMENTS.name} holds no NAME==VERSION --hash=sha256:HASH line")


def ensure_tomli() -> Path:
    """The pure-Python tomli wheel, checked against its pinned hash."""
    name, version, sha256 = _pinned_requirement()
    CACHE.mkdir(parents=True, exist_ok=True)
    wheel = CACHE / f"{name}-{version}-py3-none-any.whl"
    if not wheel.exists():
        say(f"downloading {name} {version} (bundled for Python 3.10) with pip.")
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                # The pure-Python wheel, which runs on every interpreter and platform.
                "--platform=any",
                "--implementation=py",
                "--abi=none",
                "--python-version=3.10",
                "--require-hashes",
                f"--requirement={BUNDLE_REQUIREMENTS}",
                f"--dest={CACHE}",
            ],
            ROOT,
            f"pip download {name}",
        )
    if hashlib.sha256(wheel.read_bytes()).hexdigest() != sha256:
        wheel.unlink()
        raise BuildError(f"{wheel.name} does not have the hash pinned in {BUNDLE_REQUIREMENTS}")
    return wheel


def stage(version: str, task_version: dict[str, int], publisher: str | None, tomli: Path) -> None:
    if STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir(parents=True)
    for path in _files(EXTENSION):
        relative = path.relative_to(EXTENSION)
        if relative.parts[0] in ("package.json", "package-lock.json", "bundle-requirements.txt"):
            continue
        target = STAGE / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    shutil.copy2(ROOT / "LICENSE", STAGE / "LICENSE")
    task = STAGE / TASK_NAME
    library = task / "lib"
    for path in _files(PACKAGE):
        target = library / "twine_authenticate" / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    with zipfile.ZipFile(tomli) as wheel:
        wheel.extractall(library)

    task_json = json.loads((task / "task.json").read_text(encoding="utf-8"))
    task_json["version"] = task_version
    (task / "task.json").write_text(json.dumps(task_json, indent=2) + "\n", encoding="utf-8")
    manifest_path = STAGE / "vss-extension.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["version"] = version
    if publisher:
        manifest["publisher"] = publisher
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def pack(version: str) -> Path:
    manifest = json.loads((STAGE / "vss-extension.json").read_text(encoding="utf-8"))
    vsix = DIST / f"{manifest['publisher']}.{manifest['id']}-{version}.vsix"
    DIST.mkdir(exist_ok=True)
    if vsix.exists():
        vsix.unlink()
    output = _run(
        [
            str(TFX),
            "extension",
            "create",
            "--root",
            str(STAGE),
            "--manifest-globs",
            "vss-extension.json",
            "--output-path",
            str(vsix),
            "--no-prompt",
            "--no-color",
        ],
        ROOT,
        "tfx extension create",
    )
    warnings = [line for line in output.splitlines() if "warning" in line.lower()]
    if warnings:
        # tfx says its validation warnings will become errors: treat them as such now.
        raise BuildError("tfx extension create warned:\n" + "\n".join(warnings))
    if not vsix.exists():
        raise BuildError(f"tfx extension create did not write {vsix}:\n{output}")
    size = vsix.stat().st_size
    if size > MAX_VSIX_BYTES:
        raise BuildError(f"{vsix.name} is {size} bytes, above {MAX_VSIX_BYTES}: what got in?")
    return vsix


def build(publisher: str | None, force: bool) -> Path:
    version, task_version = package_version()
    digest = inputs_digest(publisher)
    if not force and STAMP.exists():
        last = json.loads(STAMP.read_text(encoding="utf-8"))
        vsix = Path(last.get("vsix", ""))
        if last.get("inputs") == digest and vsix.is_file():
            say(f"{vsix.relative_to(ROOT)} is up to date ({vsix.stat().st_size} bytes).")
            return vsix
    started = time.monotonic()
    ensure_tfx()
    tomli = ensure_tomli()
    stage(version, task_version, publisher, tomli)
    vsix = pack(version)
    STAMP.write_text(json.dumps({"inputs": digest, "vsix": str(vsix)}), encoding="utf-8")
    say(
        f"wrote {vsix.relative_to(ROOT)} ({vsix.stat().st_size} bytes) in "
        f"{time.monotonic() - started:.1f} s; the task folder is {STAGE.relative_to(ROOT)}/"
        f"{TASK_NAME}."
    )
    return vsix


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--publisher",
        help="your Marketplace publisher id, instead of the one in extension/vss-extension.json",
    )
    parser.add_argument("--force", action="store_true", help="build even if nothing changed")
    arguments = parser.parse_args()
    if arguments.publisher is not None and not re.fullmatch(r"[A-Za-z0-9_-]+", arguments.publisher):
        parser.error("--publisher takes letters, digits, '-' and '_' only")
    try:
        build(arguments.publisher, arguments.force)
    except BuildError as error:
        print(f"build-extension: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
