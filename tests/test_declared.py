"""Repositories declared in pyproject.toml: a pipeline that needs only `twine-authenticate`."""

from __future__ import annotations

from pathlib import Path

import pytest
from twine.utils import get_config

from tests.support import IndexServer, base_env, new_secret, run, run_tool

DECLARED = """[project]
name = "app"

[[tool.twine-authenticate.repositories]]
name = "internal"
url = "{url}"
username = "uploader"
password-env = "INTERNAL_UPLOAD_TOKEN"

[[tool.twine-authenticate.repositories]]
name = "mirror"
url = "https://mirror.example/upload/"
password-env = "MIRROR_TOKEN"
"""


def test_a_project_declares_its_repositories_and_twine_uploads(
    tmp_path: Path, index_server: IndexServer, distribution: list[Path], package_name: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(DECLARED.format(url=index_server.url))
    password = index_server.users["uploader"]
    env = base_env(
        tmp_path, INTERNAL_UPLOAD_TOKEN=password, MIRROR_TOKEN=new_secret("mirror token")
    )
    dist = " ".join(str(path) for path in distribution)
    script = (
        'eval "$(twine-authenticate)"\n'
        f'twine upload --disable-progress-bar -r internal --config-file "$PYPIRC_PATH" {dist}'
    )
    result = run(["bash", "-euo", "pipefail", "-c", script], env, cwd=project)
    assert result.returncode == 0, result.output[-2000:]
    assert "and 2 declared in pyproject.toml" in result.stderr
    assert [path.name for path in distribution] == index_server.published(package_name)


def test_flags_add_to_declared_repositories(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(DECLARED.format(url="https://a.example/"))
    env = base_env(
        tmp_path,
        INTERNAL_UPLOAD_TOKEN=new_secret("internal"),
        MIRROR_TOKEN=new_secret("mirror"),
        TWINE_AUTHENTICATE_EXTRA_PASSWORD=new_secret("extra"),
    )
    result = run_tool(["--repository", "extra=https://extra.example/"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip().rsplit("=", 1)[1].strip("';")
    config = get_config(path)
    assert config["internal"]["username"] == "uploader"
    assert config["mirror"]["username"] == "__token__"
    assert config["extra"]["repository"] == "https://extra.example/"
    index_servers = Path(path).read_text().splitlines()[1]
    assert index_servers == "index-servers=extra internal mirror"


GOOD = DECLARED.format(url="https://a.example/")
CLASH = ["--repository", "internal=https://flag.example/"]


@pytest.mark.parametrize(
    ("table", "flags", "message"),
    [
        (GOOD.replace("MIRROR_TOKEN", "UNSET_TOKEN"), [], "UNSET_TOKEN"),
        (GOOD, CLASH, "used twice"),
        (
            "[[tool.twine-authenticate.repositories]]\nname='x'\nurl='https://x/'\n"
            "password='plain'\npassword-env='X'\n",
            [],
            "unknown key password",
        ),
        (
            "[[tool.twine-authenticate.repositories]]\nname='x'\npassword-env='X'\n",
            [],
            "'url' is missing",
        ),
        ("[tool.twine-authenticate]\nrepositories = 3\n", [], "array of tables"),
        ("[tool.twine-authenticate]\nrepositories = [\n", [], "not valid TOML"),
    ],
)
def test_bad_declarations_are_refused(
    tmp_path: Path, table: str, flags: list[str], message: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(table)
    env = base_env(
        tmp_path,
        INTERNAL_UPLOAD_TOKEN=new_secret("internal"),
        MIRROR_TOKEN=new_secret("mirror"),
        TWINE_AUTHENTICATE_INTERNAL_PASSWORD=new_secret("flag"),
        X=new_secret("x"),
    )
    result = run_tool(flags, env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "pyproject.toml" in result.stderr
    assert not list(Path(env["TMPDIR"]).glob("twineAuthenticate-*/*/.pypirc"))


def test_a_project_without_the_table_is_not_parsed(tmp_path: Path) -> None:
    # Invalid TOML, but without our table's name: never read past the cheap check.
    (tmp_path / "pyproject.toml").write_text("this is [not toml\n")
    env = base_env(tmp_path, TWINE_AUTHENTICATE_X_PASSWORD=new_secret("x"))
    result = run_tool(["--repository", "x=https://x.example/"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_project_named_twine_authenticate_is_not_a_declaration(tmp_path: Path) -> None:
    # Invalid TOML that only names the project: the cheap check must not send it to the parser.
    (tmp_path / "pyproject.toml").write_text('name = "twine-authenticate"\n[oops\n')
    env = base_env(tmp_path, TWINE_AUTHENTICATE_X_PASSWORD=new_secret("x"))
    result = run_tool(["--repository", "x=https://x.example/"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_quoted_table_name_is_read_too(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool."twine-authenticate"]\nrepositories = [{name = "q", url = "https://q.example/",'
        ' password-env = "Q_TOKEN"}]\n'
    )
    env = base_env(tmp_path, Q_TOKEN=new_secret("quoted"))
    result = run_tool([], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "and 1 declared in pyproject.toml" in result.stderr
