"""Every publishing client, for real: the README's example for it runs in bash, the real
client uploads into pypiserver with nothing but what ``--export`` gave it, and the package is
read back. A hostile ``~/.pypirc`` (wrong credentials for the same names, and a ``%`` that
breaks hatch's parser) sits in HOME, to show the exported variables are what counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.readme_examples import example
from tests.support import IndexServer, base_env, make_flit_project, new_secret, run, run_tool
from twine_authenticate.clients import CLIENTS

HOSTILE_PYPIRC = """[distutils]
index-servers = internal pypi

[internal]
repository = {url}
username = wrong-user
password = 100%wrong

[pypi]
username = __token__
password = pypi-100%wrong
"""


@pytest.mark.parametrize("client", CLIENTS)
def test_client_publishes_with_only_what_was_exported(
    tmp_path: Path, index_server: IndexServer, package_name: str, client: str
) -> None:
    project = make_flit_project(tmp_path / "work", package_name)
    files = sorted(path.name for path in (project / "dist").iterdir())
    password = index_server.users["uploader"]
    env = base_env(
        tmp_path,
        INDEX_URL=index_server.url,
        TWINE_AUTHENTICATE_INTERNAL_USERNAME="uploader",
        TWINE_AUTHENTICATE_INTERNAL_PASSWORD=password,
        CI="true",
    )
    Path(env["HOME"], ".pypirc").write_text(HOSTILE_PYPIRC.format(url=index_server.url))
    script = example(f"publish-{client}")

    result = run(["bash", "-euo", "pipefail", "-c", script], env, cwd=project, timeout=300)

    assert result.returncode == 0, result.output[-3000:]
    published = index_server.published(package_name)
    assert set(files) <= set(published), f"{client} uploaded {published}, built {files}"


def test_exports_without_a_name_need_exactly_one_repository(tmp_path: Path) -> None:
    env = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_A_PASSWORD=new_secret("a"),
        TWINE_AUTHENTICATE_B_PASSWORD=new_secret("b"),
    )
    args = ["--repository", "a=https://a.example/", "--repository", "b=https://b.example/"]
    result = run_tool([*args, "--export", "uv"], env)
    assert result.returncode == 2
    assert "--export uv=NAME" in result.stderr and "a, b" in result.stderr
    assert result.stdout == "false\n", "only the code that makes eval fail"

    result = run_tool(
        [*args, "--export", "uv=b", "--export", "poetry=a", "--export", "poetry=b"], env
    )
    assert result.returncode == 0, result.stderr
    assert "export UV_PUBLISH_URL='https://b.example/';" in result.stdout
    assert "export POETRY_REPOSITORIES_A_URL='https://a.example/';" in result.stdout
    assert "export POETRY_REPOSITORIES_B_URL='https://b.example/';" in result.stdout


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--export", "pip"], "unknown client 'pip'"),
        (["--export", "uv=c"], "no repository of that name"),
        (["--export", "uv=a", "--export", "uv=b"], "export it for one repository only"),
        (["--export", "twine="], "give the repository name after '='"),
    ],
)
def test_bad_exports_are_refused_before_anything_is_written(
    tmp_path: Path, flags: list[str], message: str
) -> None:
    env = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_A_PASSWORD=new_secret("a"),
        TWINE_AUTHENTICATE_B_PASSWORD=new_secret("b"),
    )
    args = ["--repository", "a=https://a.example/", "--repository", "b=https://b.example/"]
    result = run_tool([*args, *flags], env)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == "false\n", "only the code that makes eval fail"
    assert not list(Path(env["TMPDIR"]).glob("twineAuthenticate-*/*/.pypirc"))


def test_poetry_names_follow_poetrys_rules(tmp_path: Path) -> None:
    env = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_MY_INDEX_PASSWORD=new_secret("poetry"),
        TWINE_AUTHENTICATE_INDEX2_PASSWORD=new_secret("poetry digits"),
    )
    result = run_tool(["--repository", "my_index=https://a.example/", "--export", "poetry"], env)
    assert result.returncode == 0
    assert "export POETRY_HTTP_BASIC_MY_INDEX_USERNAME='__token__';" in result.stdout
    assert "poetry publish -r my-index" in result.stderr

    result = run_tool(["--repository", "index2=https://a.example/", "--export", "poetry"], env)
    assert result.returncode == 2
    assert "no digits" in result.stderr


def test_client_traps_are_reported(tmp_path: Path) -> None:
    token = new_secret("pypi token")
    env = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_PYPI_PASSWORD=token,
        TWINE_AUTHENTICATE_OTHER_PASSWORD=new_secret("other"),
        UV_PUBLISH_TOKEN="set-by-someone-else",
        MATURIN_PYPI_TOKEN="set-by-someone-else",
    )
    pypi = run_tool(
        ["--repository", "pypi=https://upload.pypi.org/legacy/", "--export", "maturin"], env
    )
    assert pypi.returncode == 0
    # maturin prefers ~/.pypirc's [pypi] to MATURIN_USERNAME/PASSWORD; the token beats both.
    assert "export MATURIN_PYPI_TOKEN=" in pypi.stdout
    other = run_tool(
        ["--repository", "other=https://o.example/", "--export", "maturin", "--export", "uv"],
        env,
    )
    assert other.returncode == 0
    assert "MATURIN_PYPI_TOKEN" not in other.stdout
    assert "warning: MATURIN_PYPI_TOKEN is already set" in other.stderr
    assert "warning: UV_PUBLISH_TOKEN is already set" in other.stderr
