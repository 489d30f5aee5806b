"""The fake Azure DevOps service against its contract (../shared/spec/azure-devops-http.md),
so that the tool's tests against it mean something."""

from __future__ import annotations

import base64
import http.client
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.fake_azure_devops import PYPI_AREA_ID, UPLOAD_LOCATION_ID, FakeAzureDevOps
from tests.support import IndexServer


def call(
    fake: FakeAzureDevOps,
    method: str,
    url: str,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, str, dict[str, str], bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = "Basic " + base64.b64encode(f"vsts:{token}".encode()).decode()
    connection.request(
        method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=sent
    )
    response = connection.getresponse()
    data = response.read()
    return response.status, response.reason, {k.lower(): v for k, v in response.getheaders()}, data


def test_location_discovery_lists_the_resource_areas_route(fake_devops: FakeAzureDevOps) -> None:
    status, _, _, body = call(fake_devops, "OPTIONS", fake_devops.collection_url + "_apis/Location")
    entry = json.loads(body)["value"][0]
    assert status == 200
    assert (entry["area"], entry["resourceName"], entry["routeTemplate"]) == (
        "Location",
        "ResourceAreas",
        "_apis/{resource}/{areaId}",
    )


def test_resource_area_gives_the_packaging_host_in_any_case(fake_devops: FakeAzureDevOps) -> None:
    token = fake_devops.token
    for path in (
        f"_apis/ResourceAreas/{PYPI_AREA_ID.upper()}",
        f"_apis/resourceAreas/{PYPI_AREA_ID}?api-version=5.0-preview.1",
    ):
        status, _, _, body = call(
            fake_devops,
            "GET",
            fake_devops.collection_url + path,
            token,
            {"Accept": "application/json;api-version=7.2-preview.1"},
        )
        assert status == 200
        assert json.loads(body) == {
            "id": PYPI_AREA_ID,
            "name": "PyPi",
            "locationUrl": fake_devops.pkgs_url,
        }


def test_resource_area_list_and_unknown_area(fake_devops: FakeAzureDevOps) -> None:
    status, _, _, body = call(
        fake_devops, "GET", fake_devops.collection_url + "_apis/ResourceAreas"
    )
    assert status == 200 and PYPI_AREA_ID in [a["id"] for a in json.loads(body)["value"]]
    status, _, _, body = call(
        fake_devops,
        "GET",
        fake_devops.collection_url + "_apis/ResourceAreas/00000000-0000-0000-0000-000000000000",
    )
    assert status == 404 and json.loads(body)["typeKey"] == "ResourceAreaNotFoundException"


def test_pypi_locations_carry_the_upload_and_simple_templates(fake_devops: FakeAzureDevOps) -> None:
    for path in ("_apis/PyPi", "_apis/pypi", "_apis"):
        status, _, _, body = call(
            fake_devops, "OPTIONS", fake_devops.pkgs_url + path, fake_devops.token
        )
        templates = {e["id"]: e["routeTemplate"] for e in json.loads(body)["value"]}
        assert status == 200
        assert templates[UPLOAD_LOCATION_ID] == "{project}/_packaging/{feedId}/pypi/upload"
    fake_devops.serve_upload_location = False
    _, _, _, body = call(fake_devops, "OPTIONS", fake_devops.pkgs_url + "_apis/PyPi")
    assert UPLOAD_LOCATION_ID not in [e["id"] for e in json.loads(body)["value"]]


def test_wrong_token_gets_the_real_401(fake_devops: FakeAzureDevOps) -> None:
    status, _, headers, body = call(
        fake_devops,
        "GET",
        fake_devops.collection_url + f"_apis/ResourceAreas/{PYPI_AREA_ID}",
        "not-the-token",
    )
    assert status == 401
    assert body.decode().startswith("TF400813: Resource not available for anonymous access.")
    assert headers["x-vss-resourcetenant"] == fake_devops.tenant
    assert "Basic realm=" in headers["www-authenticate"]


def test_anonymous_requests_to_packages_are_refused(fake_devops: FakeAzureDevOps) -> None:
    fake_devops.add_feed("Feed")
    status, _, headers, _ = call(
        fake_devops, "GET", fake_devops.pkgs_url + "_packaging/Feed/pypi/simple/"
    )
    assert status == 401 and headers["x-vss-resourcetenant"] == fake_devops.tenant


def test_feed_api_found_missing_and_forbidden(fake_devops: FakeAzureDevOps) -> None:
    fake_devops.add_feed("OrgFeed")
    fake_devops.add_feed("ProjFeed", project="Proj")
    fake_devops.add_feed("Locked", can_read=False)
    url = fake_devops.feeds_url
    status, _, _, body = call(
        fake_devops, "GET", url + "Proj/_apis/packaging/Feeds/ProjFeed", fake_devops.token
    )
    assert status == 200 and json.loads(body)["project"]["name"] == "Proj"
    status, _, _, body = call(
        fake_devops, "GET", url + "_apis/packaging/feeds/OrgFeed", fake_devops.token
    )
    assert status == 200 and json.loads(body)["project"] is None
    status, reason, _, body = call(
        fake_devops, "GET", url + "_apis/packaging/feeds/ProjFeed", fake_devops.token
    )
    assert status == 404 and json.loads(body)["typeKey"] == "FeedIdNotFoundException"
    assert reason.startswith("Not Found - The feed with ID 'ProjFeed' doesn't exist.")
    status, _, _, body = call(
        fake_devops, "GET", url + "_apis/packaging/feeds/Locked", fake_devops.token
    )
    assert status == 403 and "ReadPackages" in json.loads(body)["message"]


def test_post_to_simple_is_405(fake_devops: FakeAzureDevOps) -> None:
    fake_devops.add_feed("Feed")
    status, _, _, body = call(
        fake_devops,
        "POST",
        fake_devops.pkgs_url + "_packaging/Feed/pypi/simple/",
        fake_devops.token,
        body=b"x",
    )
    assert status == 405 and "does not support http method 'POST'" in body.decode()


def test_upload_without_publish_permission_is_403(fake_devops: FakeAzureDevOps) -> None:
    fake_devops.add_feed("ReadOnly", can_publish=False)
    status, reason, _, _ = call(
        fake_devops, "POST", fake_devops.upload_url("ReadOnly"), fake_devops.token, body=b"x"
    )
    assert status == 403 and "AddPackage" in reason


def test_injected_faults_run_out_and_latency_is_applied(fake_devops: FakeAzureDevOps) -> None:
    fake_devops.inject("ResourceAreas", status=503, times=2)
    url = fake_devops.collection_url + f"_apis/ResourceAreas/{PYPI_AREA_ID}"
    statuses = [call(fake_devops, "GET", url, fake_devops.token)[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    fake_devops.latency = 0.05
    started = time.monotonic()
    call(fake_devops, "GET", url, fake_devops.token)
    assert time.monotonic() - started >= 0.05
    assert len(fake_devops.requests_to("ResourceAreas", "GET")) == 4


def test_upload_lands_in_the_real_index(
    fake_devops: FakeAzureDevOps,
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
) -> None:
    import subprocess
    import sys

    fake_devops.add_feed("Feed", project="Proj")
    wheel = distribution[0]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            fake_devops.upload_url("Feed", "Proj"),
            "-u",
            "anyone",
            "-p",
            fake_devops.token,
            str(wheel),
        ],
        capture_output=True,
        text=True,
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-500:].replace(fake_devops.token, "***")
    assert [(u.feed, u.project, u.filename, u.status) for u in fake_devops.uploads] == [
        ("Feed", "Proj", wheel.name, 200)
    ]
    assert wheel.name in index_server.published(package_name)
