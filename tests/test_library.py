"""The library does what the command does: the same file from the same environment, and the
README's example runs as written."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.readme_examples import example
from tests.support import IndexServer, base_env, new_secret, run, run_tool
from tests.support.in_process import exported
from twine_authenticate import Options, authenticate, cleanup


def test_the_readme_library_example_runs(tmp_path: Path, index_server: IndexServer) -> None:
    env = base_env(
        tmp_path,
        INDEX_URL=index_server.url,
        TWINE_AUTHENTICATE_INTERNAL_PASSWORD=new_secret("library example"),
    )
    result = run([sys.executable, "-c", example("library")], env, label="library example")
    assert result.returncode == 0, result.output
    path, *variables = result.stdout.splitlines()
    assert f"PYPIRC_PATH {path}" in variables
    assert path.endswith("/.pypirc") and not Path(path).exists()  # written, then cleaned up


def test_the_library_and_the_command_write_the_same_file(tmp_path: Path) -> None:
    password = new_secret("library vs command")
    env = base_env(tmp_path, TWINE_AUTHENTICATE_IDX_PASSWORD=password)
    argv = ["--repository", "idx=https://idx.example/upload/", "--export", "uv"]
    command = run_tool(argv, env, allow_stdout_line=lambda line: "UV_PUBLISH_PASSWORD" in line)
    assert command.returncode == 0, command.output
    by_command = Path(exported(command)["PYPIRC_PATH"])
    command_text = by_command.read_text()

    outcome = authenticate(
        Options(repositories=("idx=https://idx.example/upload/",), exports=("uv",)),
        {**env, **exported(command)},
    )
    assert Path(outcome.path).read_text() == command_text
    assert not by_command.exists()  # the library erased the command's run, as a re-run does
    assert [(v.name, v.secret) for v in outcome.variables] == [
        ("UV_PUBLISH_URL", False),
        ("UV_PUBLISH_USERNAME", False),
        ("UV_PUBLISH_PASSWORD", True),
        ("TWINE_AUTHENTICATE_EXPORTS", False),
        ("TWINE_AUTHENTICATE_RUN", False),
        ("PYPIRC_PATH", False),
    ]
    assert password not in repr(outcome)
    later = {**env, **{v.name: v.value for v in outcome.variables}}
    assert cleanup(later).removed == (outcome.path,)
