"""Whole-process timings of twine-authenticate against the fake Azure DevOps on 127.0.0.1.

    python benchmarks/bench.py [--runs 15]

For each scenario and added latency (0 and 50 ms a request): the median wall time of the
console script over several runs, and its ratio to `python -c pass` run alternately with it,
the peak memory (max RSS) and the number of HTTP requests the fake saw per run.

"task: one internal feed" is the Azure DevOps task as the agent runs it: `node main.js` from
the .vsix that scripts/build-extension builds (node 20+ needed), its shim finding a Python
(one with nothing installed: /usr/bin/python3 as on hosted Ubuntu images, or --task-python)
and running the bundled copy; the agent's own start-up is not counted. Its ratio is to that
Python's own `-c pass`, each run measured right after one. "(first run)" is one
run in a freshly extracted task folder, as on a new agent, where Python compiles the bundled
source first.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.azure_agent_task import build_vsix, extract_task, node_program  # noqa: E402
from tests.fake_azure_devops import FakeAzureDevOps  # noqa: E402

TOKEN = "benchmark-job-token"
SCRIPT = str(Path(sys.executable).parent / "twine-authenticate")


def _run_once(
    argv: Sequence[str], env: dict[str, str], cwd: Path | None
) -> tuple[float, float, int]:
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def measure(
    argv: Sequence[str],
    env: dict[str, str],
    runs: int,
    cwd: Path | None = None,
    baseline: Sequence[str] = (sys.executable, "-c", "pass"),
) -> tuple[float, float, float, int]:
    """Median seconds, its ratio to ``python -c pass``, max RSS in MiB, last exit code.

    Each run of the command follows a run of ``python -c pass``, so that both see the same
    load: on a shared 2-core machine the baseline drifts between scenarios, and the ratio of
    medians taken side by side is what stays comparable."""
    times, baselines, peaks, code = [], [], [], 0
    for _ in range(runs):
        baselines.append(_run_once(baseline, env, cwd)[0])
        seconds, peak, code = _run_once(argv, env, cwd)
        times.append(seconds)
        peaks.append(peak)
    median = statistics.median(times)
    return median, median / statistics.median(baselines), max(peaks), code


def default_task_python() -> str:
    system = "/usr/bin/python3"
    check = "import sys; sys.exit(sys.version_info < (3, 10))"
    if (
        os.path.exists(system)
        and subprocess.run([system, "-c", check], check=False).returncode == 0
    ):
        return system
    return str(Path(sys.base_prefix) / "bin" / "python3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--task-python",
        help="the Python the task finds on PATH (default: /usr/bin/python3 when it is 3.10+, "
        "as on hosted Ubuntu images, else the one this venv was made from)",
    )
    arguments = parser.parse_args()
    runs = arguments.runs

    # Users run an installed package, whose bytecode pip compiled; do the same for src/.
    compileall.compile_dir(str(ROOT / "src"), quiet=1)
    fake = FakeAzureDevOps(
        token=TOKEN, index_url="http://127.0.0.1:9/", index_credentials=("-", "-")
    )
    fake.start()
    for index in range(20):
        fake.add_feed(f"Feed{index:02}")
    temp = Path(tempfile.mkdtemp(prefix="bench-"))
    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TF_BUILD": "True",
        "AGENT_TEMPDIRECTORY": str(temp),
        "SYSTEM_SERVERTYPE": "Hosted",
        "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": fake.collection_url,
        "ENDPOINT_AUTH_SYSTEMVSSCONNECTION": json.dumps(
            {"parameters": {"AccessToken": TOKEN}, "scheme": "OAuth"}
        ),
        "ENDPOINT_URL_c1": "https://upload.pypi.org/legacy/",
        "ENDPOINT_DATA_c1_ENDPOINTNAME": "pypi",
        "ENDPOINT_AUTH_c1": json.dumps(
            {"parameters": {"apitoken": "pypi-token"}, "scheme": "Token"}
        ),
        "ENDPOINT_AUTH_SCHEME_c1": "Token",
        "TWINE_AUTHENTICATE_DECLARED_PASSWORD": "declared-token",
    }
    # A project that declares a repository in pyproject.toml, and one that does not.
    declaring = temp / "declaring"
    declaring.mkdir()
    (declaring / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[[tool.twine-authenticate.repositories]]\n'
        'name = "declared"\nurl = "https://declared.example/"\n'
        'password-env = "TWINE_AUTHENTICATE_DECLARED_PASSWORD"\n'
    )
    plain = temp / "plain"
    plain.mkdir()
    (plain / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "1.0"\n')
    feeds20 = ",".join(f"Feed{index:02}" for index in range(20))
    scenarios = [
        ("one external connection", ["--service-connection", "c1"], 0, plain),
        ("external + --export uv", ["--service-connection", "c1", "--export", "uv"], 0, plain),
        ("declared in pyproject", [], 0, declaring),
        ("one internal feed", ["--artifact-feed", "Feed00"], 0, plain),
        ("20 internal feeds", ["--artifact-feed", feeds20], 0, plain),
        ("a 404 feed", ["--artifact-feed", "NoSuchFeed"], 1, plain),
    ]
    # The task: the agent's environment for one internal feed, with a Python 3.10+ on PATH
    # as a hosted image has it (or as UsePythonVersion@0 leaves it), not a shim in front of one.
    vsix, _ = build_vsix(os.environ)
    task = extract_task(vsix, temp / "vsix")
    task_argv = [node_program(), str(task.target("execution"))]
    task_python = arguments.task_python or default_task_python()
    task_env = {
        **base_env,
        "PATH": os.pathsep.join([str(Path(task_python).parent), "/usr/bin", "/bin"]),
        **{
            f"INPUT_{spec['name'].upper()}": str(spec.get("defaultValue", ""))
            for spec in task.inputs
        },
        "INPUT_ARTIFACTFEED": "Feed00",
    }
    print(f"{runs} runs each, medians; python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    header = ("latency", "scenario", "median", "x pass", "peak MiB", "requests")
    print(f"{header[0]:>7}  {header[1]:<24} " + " ".join(f"{h:>9}" for h in header[2:]))
    for latency in (0.0, 0.05):
        fake.latency = 0.0
        baseline, _, base_peak, _ = measure([sys.executable, "-c", "pass"], base_env, runs)
        print(
            f"{latency * 1000:>5.0f}ms  {'python -c pass':<24} {baseline * 1000:>7.1f}ms {1:>7.2f} "
            f"{base_peak:>9.1f} {0:>9}"
        )
        fake.latency = latency
        for name, args, expected, cwd in scenarios:
            fake.requests.clear()
            median, ratio, peak, code = measure([SCRIPT, *args], base_env, runs, cwd)
            assert code == expected, f"{name}: exit {code}, expected {expected}"
            requests = len(fake.requests) / runs
            print(
                f"{latency * 1000:>5.0f}ms  {name:<24} {median * 1000:>7.1f}ms "
                f"{ratio:>7.2f} {peak:>9.1f} {requests:>9.0f}"
            )
        task_runs = [("task: one internal feed", task_argv, runs)]
        if latency == 0.0:
            fresh = extract_task(vsix, temp / "vsix-fresh")
            task_runs.append(
                ("task (first run)", [task_argv[0], str(fresh.target("execution"))], 1)
            )
        for name, argv, count in task_runs:
            fake.requests.clear()
            # Against the task's own interpreter, so that the ratio is the task's overhead.
            median, ratio, peak, code = measure(
                argv, task_env, count, plain, baseline=[task_python, "-c", "pass"]
            )
            assert code == 0, f"{name}: exit {code}"
            requests = len(fake.requests) / count
            print(
                f"{latency * 1000:>5.0f}ms  {name:<24} {median * 1000:>7.1f}ms "
                f"{ratio:>7.2f} {peak:>9.1f} {requests:>9.0f}  (beside {Path(task_python).name})"
            )
        if latency == 0.0:
            keyless(runs, base_env, plain, temp)
    fake.stop()


def keyless(runs: int, base_env: dict[str, str], cwd: Path, temp: Path) -> None:
    """PyPI Trusted Publishing from GitHub Actions, against the fakes: the audience, the
    job's OIDC token, the mint (pypa's id is imported for this path only)."""
    from tests.fake_github_oidc import GITHUB_ISSUER, FakeGitHubOidc
    from tests.fake_warehouse import FakeWarehouse
    from tests.support import IndexServer

    key = b"benchmark identity key"
    unused_index = IndexServer("http://127.0.0.1:9/", temp, temp / "htpasswd")
    with (
        FakeGitHubOidc(key, {"repository": "o/r"}) as oidc,
        FakeWarehouse(key, unused_index) as pypi,
    ):
        pypi.add_publisher(GITHUB_ISSUER, repository="o/r")
        env = {
            "PATH": base_env["PATH"],
            "GITHUB_ACTIONS": "true",
            "RUNNER_TEMP": str(temp),
            "GITHUB_ENV": str(temp / "github_env"),
            **oidc.env(),
        }
        argv = [SCRIPT, "--repository", f"pypi={pypi.upload_url}"]
        median, ratio, peak, code = measure(argv, env, runs, cwd)
        assert code == 0, f"keyless: exit {code}"
        requests = (len(oidc.requests) + len(pypi.requests)) / runs
        print(
            f"{0:>5.0f}ms  {'keyless: trusted publ.':<24} {median * 1000:>7.1f}ms "
            f"{ratio:>7.2f} {peak:>9.1f} {requests:>9.0f}"
        )


if __name__ == "__main__":
    main()
