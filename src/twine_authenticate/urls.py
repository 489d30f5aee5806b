"""URLs, taken apart once and the same way everywhere (index and service URLs, proxy settings),
on ``urllib.parse``, with the questions the rest of the tool asks about them.

urlsplit is lenient where we must not be: it drops tabs and line breaks, raises a bare
ValueError for a bad port or bracket, and takes anything as a host. So characters are checked
before it sees the text, and host and port after; every problem becomes an InputError that
names the input and says what to do, and never shows credentials.
"""

from __future__ import annotations

from urllib.parse import SplitResult, unquote, urlsplit

from ._records import TYPE_CHECKING, NamedTuple
from .errors import InputError

if TYPE_CHECKING:
    from ipaddress import IPv4Address, IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
PYPI_UPLOAD_HOSTS = frozenset({"upload.pypi.org", "test.pypi.org"})

# As validation.find_refused_character (which imports this module, so it cannot be used here).
_REFUSED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
_IPV6_EXAMPLE = "write it in brackets, like https://[2001:db8::1]:8443/"
_NOT_SHOWN = (
    "The URL is not shown because it contains '@': if that is user:password@host, remove the "
    "credentials from the URL and pass the password through its environment variable instead."
)


class Url(NamedTuple):
    """A URL as the transport needs it. ``host`` is lower-case, an IPv6 address without its
    brackets; ``port`` is the scheme's default when the URL gives none; ``target`` is the path
    and query (``/`` for none), without the fragment; ``text`` is the URL as given (for a
    proxy: without its user and password)."""

    scheme: str
    host: str
    port: int
    target: str
    text: str

    @property
    def is_default_port(self) -> bool:
        return self.port == DEFAULT_PORTS.get(self.scheme)

    @property
    def origin(self) -> str:
        """``scheme://host``, with ``:port`` only when it is not the scheme's default."""
        port = "" if self.is_default_port else f":{self.port}"
        return f"{self.scheme}://{_bracketed(self.host)}{port}"

    @property
    def authority(self) -> str:
        """``host:port`` for a Host header or a CONNECT line, IPv6 in brackets."""
        return f"{_bracketed(self.host)}:{self.port}"

    @property
    def path(self) -> str:
        """The target without its query."""
        return self.target.partition("?")[0]


class _Bad(Exception):
    """A problem found in a URL, made into an InputError once it is known what may be shown."""

    def __init__(self, problem: str, advice: str, detail: str = "") -> None:
        super().__init__(problem)
        self.problem, self.advice, self.detail = problem, advice, detail

    def error(self, what: str, shown: str | None, hidden: str) -> InputError:
        """``shown``: the quoted URL, or None to show nothing of it and say ``hidden``."""
        if shown is None:
            return InputError(f"{what} {self.problem}; {self.advice}. {hidden}")
        detail = f" ({self.detail})" if self.detail else ""
        return InputError(f"{what} {shown} {self.problem}{detail}; {self.advice}.")


def parse_url(text: str, what: str) -> Url:
    """An index or service URL: http(s), a host, an optional port, no credentials.

    Raises InputError, naming ``what``, for anything else; nothing else escapes.
    """
    shown = None if "@" in text else repr(text)
    try:
        _check_characters(text)
        parts = _split(text)
        if parts.scheme.lower() not in DEFAULT_PORTS or not text.partition(":")[2].startswith("//"):
            raise _Bad(
                "is not an http:// or https:// URL", "give the full URL, starting with https://"
            )
        if "@" in parts.netloc:
            # Quoting the URL would print the credentials in it.
            raise InputError(
                f"{what} carries credentials in the URL (user:password@host); remove them from "
                "the URL and pass the password through its environment variable instead."
            )
        return _url(parts, text, "https://host/path")
    except _Bad as bad:
        raise bad.error(what, shown, _NOT_SHOWN) from None


def parse_proxy_url(text: str, what: str) -> tuple[Url, str | None, str | None]:
    """A proxy setting (``HTTPS_PROXY``, ``Agent.ProxyUrl``): the proxy, its user name and its
    password, both percent-decoded (None when absent; the password is ``""`` after ``user:``).

    The scheme may be left out (``proxy:3128`` is ``http://proxy:3128``). A password may hold
    an unencoded '/', ':' or '@': the user part ends at the last '@'. The returned Url's text
    has no user part. Raises InputError naming ``what``; it never shows the credentials.
    """
    scheme_text, separator, rest = text.partition("://")
    if not separator or not _is_scheme(scheme_text):
        scheme_text, separator, rest = "http", "", text
    userinfo, at, host_part = rest.rpartition("@")
    visible = f"{scheme_text}://{host_part}"
    shown: str | None = repr(f"{scheme_text}://***@{host_part}" if at else text)
    hidden = "The value is not shown because it may hold credentials."
    try:
        if scheme_text.lower() not in DEFAULT_PORTS or (not separator and ":/" in host_part):
            if at:  # the "scheme" may be a user name in a URL without one
                shown = None
            raise _Bad(
                "is not an http:// or https:// proxy URL",
                "give the proxy as http://host:port (SOCKS proxies are not supported)",
            )
        if _find_character(userinfo) is not None:
            shown, hidden = None, "The credentials are not shown."
            raise _Bad(
                "has whitespace or a control character in its user name or password",
                "percent-encode it (%20 for a space)",
            )
        _check_characters(host_part)
        url = _url(_split(visible), visible, "http://proxy.example:3128")
    except _Bad as bad:
        raise bad.error(what, shown, hidden) from None
    if not userinfo:
        return url, None, None
    user, colon, secret = userinfo.partition(":")
    password: str | None = None
    try:
        username = unquote(user, errors="strict")
        if colon:
            password = unquote(secret, errors="strict")
    except UnicodeDecodeError:
        raise InputError(
            f"{what}: the proxy user name or password is not valid percent-encoded UTF-8; "
            "percent-encode the UTF-8 bytes of each special character (a literal '%' as %25)."
        ) from None
    if any(_find_character(value, whitespace=False) for value in (username, password or "")):
        raise InputError(
            f"{what}: the proxy user name or password holds a control or line-break "
            "character once percent-decoded; fix the credentials and run again."
        )
    return url, username, password


def is_pypi_upload(url: str) -> bool:
    """PyPI's or TestPyPI's upload URL, which accepts API tokens only as user ``__token__``:
    https on port 443, host upload.pypi.org or test.pypi.org, path ``/legacy`` or
    ``/legacy/`` and no query. False for anything else, unparsable text included."""
    try:
        parsed = parse_url(url, "URL")
    except InputError:
        return False
    return (
        parsed.scheme == "https"
        and parsed.host in PYPI_UPLOAD_HOSTS
        and parsed.port == 443
        and parsed.target in ("/legacy", "/legacy/")
    )


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (as in Url.host; brackets allowed) is this machine, decided by address:
    127.0.0.0/8, ::1 and IPv4-mapped loopback, or the name ``localhost`` and ``*.localhost``
    (RFC 6761). A name that only starts with ``127.`` is not."""
    host = host.lower().removeprefix("[").removesuffix("]")
    name = host.removesuffix(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = _ip_address(host)
    if address is None:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def join_under(base: str, relative: str) -> str:
    """``relative`` under every path segment of ``base``, slash or not:
    ``https://dev.azure.com/org`` + ``_apis/x`` is ``https://dev.azure.com/org/_apis/x``.

    Unlike urljoin, the base's last segment is kept and a leading '/' on ``relative`` does not
    go back to the root. Empty segments and the base's query and fragment are dropped."""
    parts = urlsplit(base)
    segments = [segment for segment in parts.path.split("/") if segment]
    if relative.lstrip("/"):
        segments.append(relative.lstrip("/"))
    return f"{parts.scheme}://{parts.netloc}/" + "/".join(segments)


def _split(text: str) -> SplitResult:
    try:
        return urlsplit(text)
    except ValueError as error:  # a misplaced bracket, or a character NFKC turns into one
        if "NFKC" in str(error):
            raise _Bad(
                "has a character a host name cannot contain", "check the host name"
            ) from None
        raise _Bad("has a malformed IPv6 address", _IPV6_EXAMPLE) from None


def _url(parts: SplitResult, text: str, example: str) -> Url:
    scheme = parts.scheme.lower()
    netloc = parts.netloc.rpartition("@")[2]
    if netloc.startswith("["):
        inside, _, after = netloc[1:].partition("]")
        if (after and not after.startswith(":")) or "%" in inside or not _is_ipv6(inside):
            raise _Bad("has a malformed IPv6 address", _IPV6_EXAMPLE)
        host, port_text = inside, after[1:]
    else:
        host, colon, port_text = netloc.rpartition(":")
        if not colon:
            host, port_text = netloc, ""
        if ":" in host:
            raise _Bad(
                "has more than one ':' in its host and port",
                f"for an IPv6 address, {_IPV6_EXAMPLE}",
            )
        if not host:
            raise _Bad("has no host", f"give a URL of the form {example}")
        bad = next((char for char in host if not _is_host_character(char)), None)
        if bad is not None:
            raise _Bad(
                "has a character a host name cannot contain", "check the host name", repr(bad)
            )
    port = DEFAULT_PORTS[scheme]
    if port_text:
        if not (port_text.isascii() and port_text.isdigit()):
            raise _Bad(
                "has a port that is not a number",
                "give the port in digits, or leave it out for the scheme's default",
                repr(port_text),
            )
        port = int(port_text[-6:]) if len(port_text.lstrip("0")) <= 5 else 0
        if not 1 <= port <= 65535:
            raise _Bad(
                "has a port outside 1-65535",
                "fix the port, or leave it out for the scheme's default",
                port_text,
            )
    target = parts.path or "/"
    if parts.query or "?" in text.partition("#")[0]:
        target += "?" + parts.query
    return Url(scheme, host.lower(), port, target if target.startswith("/") else "/" + target, text)


def _is_scheme(text: str) -> bool:
    return (
        text[:1].isascii()
        and text[:1].isalpha()
        and all(char.isascii() and (char.isalnum() or char in "+-.") for char in text)
    )


def _is_host_character(char: str) -> bool:
    if char.isascii():
        return char.isalnum() or char in "-._~"
    import unicodedata  # only for a non-ASCII (IDN) host

    return char.isalnum() or unicodedata.combining(char) != 0


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _find_character(text: str, *, whitespace: bool = True) -> tuple[int, str] | None:
    """The first control or line-break character (or whitespace): its index and its kind."""
    for index, char in enumerate(text):
        if "!" <= char <= "~":
            continue
        if char.isascii():
            if char != " ":
                return index, "control"
        else:
            import unicodedata

            if unicodedata.category(char) in _REFUSED_CATEGORIES:
                return index, "control"
            if not char.isspace():
                continue
        if whitespace:
            return index, "whitespace"
    return None


def _check_characters(text: str) -> None:
    found = _find_character(text)
    if found is None:
        return
    index, kind = found
    if kind == "whitespace":
        raise _Bad("contains whitespace", "percent-encode it (%20)")
    raise _Bad(
        "contains a control or line-break character",
        "remove it and run again",
        f"U+{ord(text[index]):04X}",
    )


def _is_ipv6(text: str) -> bool:
    address = _ip_address(text)
    return address is not None and address.version == 6


def _ip_address(text: str) -> IPv4Address | IPv6Address | None:
    if not text or not (":" in text or text.replace(".", "").isdigit()):
        return None  # a name: no need to load ipaddress
    import ipaddress  # only here: a URL naming a host by IP address is the rare case

    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
