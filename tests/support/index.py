"""A real pypiserver that needs a password to upload and to read, and the one way the tests
read a package back from it."""

from __future__ import annotations

import base64
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from tests.support.servers import free_port, running_server


@dataclass
class IndexServer:
    """A real pypiserver with an htpasswd file."""

    url: str
    packages: Path
    htpasswd: Path
    users: dict[str, str] = field(default_factory=dict, repr=False)
    _mtime_ns: int = 0

    def add_user(self, username: str, password: str) -> None:
        from passlib.apache import HtpasswdFile

        htpasswd = HtpasswdFile(str(self.htpasswd))
        htpasswd.set_password(username, password)
        htpasswd.save()
        self.users[username] = password
        # pypiserver reloads the file when its mtime changes. Two saves within one tick of
        # the file system's clock would share an mtime, so move it forward ourselves.
        self._mtime_ns = max(time.time_ns(), self._mtime_ns + 10_000_000)
        os.utime(self.htpasswd, ns=(self._mtime_ns, self._mtime_ns))

    def published(self, project: str, username: str = "uploader", password: str = "") -> list[str]:
        """The file names the index lists for ``project`` (none if it does not know it), read
        from its simple page with ``username``'s password (the registered one by default)."""
        name = re.sub(r"[-_.]+", "-", project).lower()
        request = urllib.request.Request(f"{self.url.rstrip('/')}/simple/{name}/")
        secret = password or self.users[username]
        token = base64.b64encode(f"{username}:{secret}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                page = response.read().decode()
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return []
            # The status alone: the page could echo what was sent.
            raise AssertionError(
                f"the index answered {error.code} for {name} as {username}"
            ) from None
        links = _Links()
        links.feed(page)
        return sorted(links.names)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self._in_link = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_link = tag == "a"

    def handle_data(self, data: str) -> None:
        if self._in_link and data.strip():
            self.names.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        self._in_link = False


@contextmanager
def running_index(root: Path) -> Iterator[IndexServer]:
    packages = root / "packages"
    packages.mkdir()
    htpasswd = root / "htpasswd"
    htpasswd.write_text("")
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "pypiserver",
        "run",
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-a",
        "update,download,list",
        "-P",
        str(htpasswd),
        str(packages),
    ]
    with running_server("pypiserver", argv, port=port, log=root / "log"):
        yield IndexServer(f"http://127.0.0.1:{port}/", packages, htpasswd)
