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
password-env = "TWINE_AUTHENTICATE_UPLOAD_TOKEN"

[[tool.twine-authenticate.repositories]]
name = "mirror"
url = "https://mirror.example/upload/"
password-env = "TWINE_AUTHENTICATE_MIRROR_TOKEN"
"""


def test_a_project_declares_its_repositories_and_twine_uploads(
    tmp_path: Path, index_server: IndexServer, distribution: list[Path], package_name: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(DECLARED.format(url=index_server.url))
    password = index_server.users["uploader"]
    env = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_UPLOAD_TOKEN=password,
        TWINE_AUTHENTICATE_MIRROR_TOKEN=new_secret("mirror token"),
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
        TWINE_AUTHENTICATE_UPLOAD_TOKEN=new_secret("internal"),
        TWINE_AUTHENTICATE_MIRROR_TOKEN=new_secret("mirror"),
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
        (
            GOOD.replace("TWINE_AUTHENTICATE_MIRROR_TOKEN", "TWINE_AUTHENTICATE_UNSET_TOKEN"),
            [],
            "TWINE_AUTHENTICATE_UNSET_TOKEN",
        ),
        (GOOD, CLASH, "used twice"),
        (
            "[[tool.twine-authenticate.repositories]]\nname='x'\nurl='https://x/'\n"
            "password='plain'\npassword-env='TWINE_AUTHENTICATE_X'\n",
            [],
            "unknown key password",
        ),
        (
            "[[tool.twine-authenticate.repositories]]\nname='x'\npassword-env='TWINE_AUTHENTICATE_X'\n",
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
        TWINE_AUTHENTICATE_UPLOAD_TOKEN=new_secret("internal"),
        TWINE_AUTHENTICATE_MIRROR_TOKEN=new_secret("mirror"),
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


def test_a_broken_file_that_mentions_the_tool_is_reported_not_skipped(tmp_path: Path) -> None:
    # It may hold a declaration in a spelling no byte pattern could list: never ignore it.
    (tmp_path / "pyproject.toml").write_text('name = "twine-authenticate"\n[oops\n')
    env = base_env(tmp_path, TWINE_AUTHENTICATE_X_PASSWORD=new_secret("x"))
    result = run_tool(["--repository", "x=https://x.example/"], env, cwd=tmp_path)
    assert result.returncode == 2
    assert "pyproject.toml is not valid TOML" in result.stderr


SPELLINGS = {
    "quoted header": '[[tool."twine-authenticate".repositories]]\n{entry}',
    "single-quoted header": "[[tool.'twine-authenticate'.repositories]]\n{entry}",
    "inline table": "[tool]\ntwine-authenticate = {{ repositories = [{{ {inline} }}] }}\n",
    "dotted key": "[tool]\n'twine-authenticate'.repositories = [{{ {inline} }}]\n",
    "spaces": "[[ tool . twine-authenticate . repositories ]]\n{entry}",
    "all inline": "tool = {{ twine-authenticate = {{ repositories = [{{ {inline} }}] }} }}\n",
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_valid_spelling_of_the_table_is_read(tmp_path: Path, spelling: str) -> None:
    entry = 'name = "s"\nurl = "https://s.example/"\npassword-env = "TWINE_AUTHENTICATE_S"\n'
    inline = 'name = "s", url = "https://s.example/", password-env = "TWINE_AUTHENTICATE_S"'
    (tmp_path / "pyproject.toml").write_text(SPELLINGS[spelling].format(entry=entry, inline=inline))
    env = base_env(tmp_path, TWINE_AUTHENTICATE_S=new_secret("spelling"))
    result = run_tool([], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "and 1 declared in pyproject.toml" in result.stderr


def test_a_misspelt_table_is_named_not_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[[tool.twine_authenticate.repositories]]\nname = 's'\n"
    )
    result = run_tool([], base_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "has a [tool.twine_authenticate] table, which is not read" in result.stderr


@pytest.mark.parametrize(
    "variable",
    [
        "SYSTEM_ACCESSTOKEN",
        "GITHUB_TOKEN",
        "CI_JOB_TOKEN",
        "ENDPOINT_AUTH_SYSTEMVSSCONNECTION",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "TWINE_PASSWORD",
        "TWINE_AUTHENTICATE_RUN",
    ],
)
def test_a_declaration_cannot_pick_the_jobs_other_credentials(
    tmp_path: Path, variable: str
) -> None:
    """pyproject.toml is repository content a pull request can change: it must not be able
    to send the job token to a URL of its choosing."""
    (tmp_path / "pyproject.toml").write_text(
        "[[tool.twine-authenticate.repositories]]\nname = 'evil'\n"
        f"url = 'https://attacker.example/'\npassword-env = '{variable}'\n"
    )
    token = new_secret("the job's token")
    result = run_tool([], base_env(tmp_path, **{variable: token}), cwd=tmp_path)
    assert result.returncode == 2
    assert f"password-env names {variable}, but a declaration may only name a variable" in (
        result.stderr
    )
    assert "TWINE_AUTHENTICATE_EVIL_PASSWORD" in result.stderr  # what to use instead
    assert not list(Path(tmp_path / "tmp").glob("twineAuthenticate-*/*/.pypirc"))


def test_only_a_regular_file_of_sane_size_is_read(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # opening it to read would block forever
    result = run_tool(["--pyproject", str(fifo)], base_env(tmp_path), cwd=tmp_path, timeout=20)
    assert result.returncode == 2 and "is not a regular file" in result.stderr
    big = tmp_path / "big.toml"
    big.write_text("# twine-authenticate\n" + "x = 1\n" * 300_000)
    result = run_tool(["--pyproject", str(big)], base_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "larger than 1024 KiB" in result.stderr


def test_absurdly_deep_toml_is_a_clear_input_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "# twine-authenticate\nx = " + "[" * 100_000 + "]" * 100_000 + "\n"
    )
    result = run_tool([], base_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 2, result.output
    assert "Traceback" not in result.stderr
    assert "pyproject.toml" in result.stderr


def test_the_quoted_table_name_is_read_too(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool."twine-authenticate"]\nrepositories = [{name = "q", url = "https://q.example/",'
        ' password-env = "TWINE_AUTHENTICATE_Q_TOKEN"}]\n'
    )
    env = base_env(tmp_path, TWINE_AUTHENTICATE_Q_TOKEN=new_secret("quoted"))
    result = run_tool([], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "and 1 declared in pyproject.toml" in result.stderr
