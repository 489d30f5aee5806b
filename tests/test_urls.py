"""URLs: what is accepted and how it is taken apart, what is refused and the message a user
then sees (the input named, what to do, never the credentials)."""

from __future__ import annotations

from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twine_authenticate.errors import InputError
from twine_authenticate.urls import (
    Url,
    is_loopback_host,
    is_pypi_upload,
    join_under,
    parse_proxy_url,
    parse_url,
)

WHAT = "repository idx: URL"
PROXY = "HTTPS_PROXY"
# Credentials in the examples: distinctive, so that any piece of them in a message shows.
USER, SECRET = "alice7", "Sx9Qz"


def refusal(text: str, what: str = WHAT) -> str:
    with pytest.raises(InputError) as caught:
        parse_url(text, what)
    return str(caught.value)


def proxy_refusal(text: str) -> str:
    with pytest.raises(InputError) as caught:
        parse_proxy_url(text, PROXY)
    return str(caught.value)


# parse_url: accepted


@pytest.mark.parametrize(
    ("text", "expected", "origin", "authority"),
    [
        (
            "https://pkgs.example.com/org/_packaging/F/pypi/upload/",
            Url("https", "pkgs.example.com", 443, "/org/_packaging/F/pypi/upload/", ""),
            "https://pkgs.example.com",
            "pkgs.example.com:443",
        ),
        (
            "HTTPS://Upload.PyPI.org:443/legacy/?a=B#Frag",
            Url("https", "upload.pypi.org", 443, "/legacy/?a=B", ""),
            "https://upload.pypi.org",
            "upload.pypi.org:443",
        ),
        (
            "http://127.0.0.1:8080",
            Url("http", "127.0.0.1", 8080, "/", ""),
            "http://127.0.0.1:8080",
            "127.0.0.1:8080",
        ),
        ("http://h?q=1", Url("http", "h", 80, "/?q=1", ""), "http://h", "h:80"),
        ("http://h:/x", Url("http", "h", 80, "/x", ""), "http://h", "h:80"),
        ("http://h:0080/", Url("http", "h", 80, "/", ""), "http://h", "h:80"),
        ("https://h:80/", Url("https", "h", 80, "/", ""), "https://h:80", "h:80"),
        (
            "http://[::1]:8080/simple/",
            Url("http", "::1", 8080, "/simple/", ""),
            "http://[::1]:8080",
            "[::1]:8080",
        ),
        (
            "https://[2001:DB8::1]/x",
            Url("https", "2001:db8::1", 443, "/x", ""),
            "https://[2001:db8::1]",
            "[2001:db8::1]:443",
        ),
        ("https://Bücher.example/", Url("https", "bücher.example", 443, "/", ""), None, None),
        ("https://e\u0301x.example/", Url("https", "e\u0301x.example", 443, "/", ""), None, None),
        # An '@' in the path is not userinfo.
        ("https://h/npm/@scope/x", Url("https", "h", 443, "/npm/@scope/x", ""), None, None),
    ],
)
def test_parse_url_takes_a_url_apart(
    text: str, expected: Url, origin: str | None, authority: str | None
) -> None:
    url = parse_url(text, WHAT)
    assert url == expected._replace(text=text)
    assert url.is_default_port == (url.port == {"http": 80, "https": 443}[url.scheme])
    if origin is not None:
        assert (url.origin, url.authority) == (origin, authority)


def test_path_is_the_target_without_its_query() -> None:
    assert parse_url("https://h/a/b?c=d", WHAT).path == "/a/b"


# parse_url: refused, with a message naming the input, quoting the URL and saying what to do


@pytest.mark.parametrize(
    ("text", "problem", "advice"),
    [
        ("ftp://files.example/", "is not an http:// or https:// URL", "starting with https://"),
        ("upload.pypi.org/legacy/", "is not an http:// or https:// URL", "starting with https://"),
        ("https:/h/", "is not an http:// or https:// URL", "starting with https://"),
        ("http:///simple/", "has no host", "https://host/path"),
        ("http://:80/", "has no host", "https://host/path"),
        ("https://", "has no host", "https://host/path"),
        ("http://h:abc/", "has a port that is not a number ('abc')", "give the port in digits"),
        ("http://h:+80/", "has a port that is not a number ('+80')", "give the port in digits"),
        ("http://h:٨٠/", "has a port that is not a number", "give the port in digits"),
        ("http://h:0/", "has a port outside 1-65535 (0)", "fix the port"),
        ("http://h:65536/", "has a port outside 1-65535 (65536)", "fix the port"),
        ("http://h:" + "9" * 5000 + "/", "has a port outside 1-65535", "fix the port"),
        ("http://[::1/", "has a malformed IPv6 address", "in brackets, like https://["),
        ("http://[zz]/", "has a malformed IPv6 address", "in brackets, like https://["),
        ("http://[]/", "has a malformed IPv6 address", "in brackets, like https://["),
        ("http://[1.2.3.4]/", "has a malformed IPv6 address", "in brackets, like https://["),
        ("http://[::1]x/", "has a malformed IPv6 address", "in brackets, like https://["),
        ("http://[fe80::1%25eth0]/", "has a malformed IPv6 address", "in brackets, like"),
        ("http://::1/", "more than one ':'", "for an IPv6 address, write it in brackets"),
        ("http://h:1:2/", "more than one ':'", "write it in brackets"),
        ("http://::1]/", "has a malformed IPv6 address", "in brackets, like https://["),
        ("http://a\\b/", "has a character a host name cannot contain ('\\\\')", "check the host"),
        ("http://a%62c/", "has a character a host name cannot contain ('%')", "check the host"),
        ("http://a\uff0fb/", "has a character a host name cannot contain", "check the host"),
        ("http://h /", "contains whitespace", "percent-encode it (%20)"),
        (" http://h/", "contains whitespace", "percent-encode it (%20)"),
        ("http://h/a\u00a0b", "contains whitespace", "percent-encode it (%20)"),
        ("http://h/\n", "contains a control or line-break character (U+000A)", "remove it"),
        ("http://h/\t", "contains a control or line-break character (U+0009)", "remove it"),
        ("http://h/\u2028", "contains a control or line-break character (U+2028)", "remove it"),
        ("http://h/\u200b", "contains a control or line-break character (U+200B)", "remove it"),
    ],
)
def test_parse_url_refusals_say_what_and_what_to_do(text: str, problem: str, advice: str) -> None:
    message = refusal(text)
    assert message.startswith(f"{WHAT} {text!r} ")
    assert problem in message and advice in message


@pytest.mark.parametrize(
    "text",
    [
        f"https://{USER}:{SECRET}@pkgs.example.com/upload/",
        f"https://{USER}@pkgs.example.com/upload/",
        f"http://{USER}:{SECRET}@[::1]:8080/",
        f"https://{USER}:{SECRET}@/",
        f"ftp://{USER}:{SECRET}@h/",
        f"https://{USER}:Sx9 Qz@h/",
        f"https://{USER}:Sx9\nQz@h/",
    ],
)
def test_credentials_in_an_index_url_are_refused_unquoted(text: str) -> None:
    message = refusal(text)
    assert message.startswith(WHAT)
    assert "credentials" in message and "environment variable" in message
    assert USER not in message and "Sx9" not in message and "Qz" not in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # A password holding '/', '#' or '?' seems to end the host part early: whatever the
        # parse then finds wrong, a URL with an '@' is not quoted.
        (f"https://{USER}:Sx9/Qz@h/", "has a port that is not a number"),
        (f"https://{USER}:Sx9#Qz@h/", "has a port that is not a number"),
        (f"https://{USER}:Sx9?Qz@h/", "has a port that is not a number"),
        (f"https://{USER}:Sx9[/Qz@h/", "has a malformed IPv6 address"),
        (f"https://h:99999/{USER}:{SECRET}@", "has a port outside 1-65535"),
        (f"https://h/{USER}:{SECRET}@ /", "contains whitespace"),
    ],
)
def test_a_broken_url_with_an_at_sign_is_not_quoted(text: str, problem: str) -> None:
    message = refusal(text)
    assert message.startswith(f"{WHAT} {problem};")
    assert "not shown" in message and "environment variable" in message
    assert USER not in message and "Sx9" not in message and "Qz" not in message


# parse_proxy_url


@pytest.mark.parametrize(
    ("text", "url", "username", "password"),
    [
        ("proxy:3128", Url("http", "proxy", 3128, "/", "http://proxy:3128"), None, None),
        ("Proxy.Corp", Url("http", "proxy.corp", 80, "/", "http://Proxy.Corp"), None, None),
        ("https://proxy/", Url("https", "proxy", 443, "/", "https://proxy/"), None, None),
        ("http://[::1]:3128", Url("http", "::1", 3128, "/", "http://[::1]:3128"), None, None),
        ("http://[::1]", Url("http", "::1", 80, "/", "http://[::1]"), None, None),
        ("[::1]:3128", Url("http", "::1", 3128, "/", "http://[::1]:3128"), None, None),
        (
            "http://u:pa/ss@proxy:8080",
            Url("http", "proxy", 8080, "/", "http://proxy:8080"),
            "u",
            "pa/ss",
        ),
        (
            "http://u:p@ss@proxy:8080/",
            Url("http", "proxy", 8080, "/", "http://proxy:8080/"),
            "u",
            "p@ss",
        ),
        ("http://u:p:a:ss@[::1]", Url("http", "::1", 80, "/", "http://[::1]"), "u", "p:a:ss"),
        ("http://u:p#s?s@proxy", Url("http", "proxy", 80, "/", "http://proxy"), "u", "p#s?s"),
        ("u:a://b@proxy:1", Url("http", "proxy", 1, "/", "http://proxy:1"), "u", "a://b"),
        ("u:pw@proxy:3128", Url("http", "proxy", 3128, "/", "http://proxy:3128"), "u", "pw"),
        (
            "http://us%40er:p%40ss%3Aw%2Fd@proxy.example:3128",
            Url("http", "proxy.example", 3128, "/", "http://proxy.example:3128"),
            "us@er",
            "p@ss:w/d",
        ),
        ("http://u:p%20w%C3%A9@proxy", Url("http", "proxy", 80, "/", "http://proxy"), "u", "p wé"),
        ("http://u:100%@proxy", Url("http", "proxy", 80, "/", "http://proxy"), "u", "100%"),
        ("http://u@proxy", Url("http", "proxy", 80, "/", "http://proxy"), "u", None),
        ("http://u:@proxy", Url("http", "proxy", 80, "/", "http://proxy"), "u", ""),
        ("http://:pw@proxy", Url("http", "proxy", 80, "/", "http://proxy"), "", "pw"),
        ("http://@proxy", Url("http", "proxy", 80, "/", "http://proxy"), None, None),
    ],
)
def test_parse_proxy_url(text: str, url: Url, username: str | None, password: str | None) -> None:
    assert parse_proxy_url(text, PROXY) == (url, username, password)


@pytest.mark.parametrize(
    ("text", "problem", "advice"),
    [
        (
            "socks5://proxy:1080",
            "'socks5://proxy:1080' is not an http:// or https:// proxy",
            "SOCKS",
        ),
        (f"socks5://{USER}:{SECRET}@proxy:1080", "is not an http:// or https:// proxy", "SOCKS"),
        # Without a scheme, the user name would pass for one: nothing is shown.
        (f"{USER}://{SECRET}@proxy:1080", "is not an http:// or https:// proxy", "SOCKS"),
        ("http:/proxy:3128", "'http:/proxy:3128' is not an http:// or https:// proxy", "http://"),
        ("HTTP_PROXY://x", "is not an http:// or https:// proxy", "http://host:port"),
        (
            f"http://{USER}:{SECRET}@proxy:abc",
            "'http://***@proxy:abc' has a port that is not a number ('abc')",
            "digits",
        ),
        (
            f"http://{USER}:{SECRET}@proxy:0",
            "'http://***@proxy:0' has a port outside 1-65535",
            "fix the port",
        ),
        (f"http://{USER}:{SECRET}@", "'http://***@' has no host", "http://proxy.example:3128"),
        (f"{USER}:{SECRET}@:3128", "'http://***@:3128' has no host", "http://proxy.example:3128"),
        (f"http://{USER}:{SECRET}@[::1", "has a malformed IPv6 address", "brackets"),
        (
            f"http://{USER}:{SECRET}@proxy\n",
            "'http://***@proxy\\n' contains a control",
            "remove it",
        ),
        (
            f"http://{USER}:Sx9 Qz@proxy",
            "whitespace or a control character in its user name",
            "%20",
        ),
        (
            f"http://{USER}:Sx9\rQz@proxy",
            "whitespace or a control character in its user name",
            "%20",
        ),
        (f"http://{USER}:Sx9%FFQz@proxy", "not valid percent-encoded UTF-8", "%25"),
        (
            f"http://{USER}:Sx9%0AQz@proxy",
            "control or line-break character once percent-decoded",
            "fix",
        ),
        (
            f"http://{USER}%00:{SECRET}@proxy",
            "control or line-break character once percent-decoded",
            "fix",
        ),
    ],
)
def test_parse_proxy_url_refusals_never_show_credentials(
    text: str, problem: str, advice: str
) -> None:
    message = proxy_refusal(text)
    assert message.startswith(PROXY)
    assert problem in message and advice in message
    assert USER not in message and "Sx9" not in message and "Qz" not in message


# is_pypi_upload, is_loopback_host, join_under


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://upload.pypi.org/legacy/", True),
        ("https://upload.pypi.org/legacy", True),
        ("https://test.pypi.org/legacy/", True),
        ("https://test.pypi.org/legacy", True),
        ("HTTPS://Upload.PyPI.org/legacy/", True),
        ("https://upload.pypi.org:443/legacy/", True),
        ("https://upload.pypi.org/legacy/#top", True),
        ("http://upload.pypi.org/legacy/", False),
        ("https://upload.pypi.org:8443/legacy/", False),
        ("https://upload.pypi.org/legacy/?x=1", False),
        ("https://upload.pypi.org/legacyx", False),
        ("https://upload.pypi.org/legacy/x", False),
        ("https://upload.pypi.org/", False),
        ("https://upload.pypi.org.evil.com/legacy/", False),
        ("https://evil.com/upload.pypi.org/legacy/", False),
        ("https://evil.com\\@upload.pypi.org/legacy/", False),
        ("https://u:p@upload.pypi.org/legacy/", False),
        ("https://pypi.org/legacy/", False),
        ("https://pkgs.dev.azure.com/o/_packaging/f/pypi/upload/", False),
        ("", False),
        ("https://[upload.pypi.org]/legacy/", False),
        ("https://upload.pypi.org:x/legacy/", False),
    ],
)
def test_is_pypi_upload(url: str, expected: bool) -> None:
    assert is_pypi_upload(url) is expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("LocalHost", True),
        ("localhost.", True),
        ("index.localhost", True),
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("0:0:0:0:0:0:0:1", True),
        ("::ffff:127.0.0.1", True),
        ("127.0.0.1.evil.com", False),
        ("127.evil.com", False),
        ("localhost.evil.com", False),
        ("evil-localhost", False),
        ("128.0.0.1", False),
        ("10.0.0.1", False),
        ("::2", False),
        ("::ffff:10.0.0.1", False),
        ("example.com", False),
        ("", False),
        ("127.1", False),  # inet_aton's short form: not a literal we trust as local
    ],
)
def test_is_loopback_host(host: str, expected: bool) -> None:
    assert is_loopback_host(host) is expected


@pytest.mark.parametrize(
    ("base", "relative", "expected"),
    [
        ("https://dev.azure.com/org", "_apis/x", "https://dev.azure.com/org/_apis/x"),
        ("https://dev.azure.com/org/", "_apis/x", "https://dev.azure.com/org/_apis/x"),
        ("https://dev.azure.com/org/", "/_apis/x", "https://dev.azure.com/org/_apis/x"),
        ("https://tfs.corp/tfs/Default//", "_apis/x", "https://tfs.corp/tfs/Default/_apis/x"),
        (
            "https://pkgs.dev.azure.com",
            "o/_packaging/F/pypi/upload",
            "https://pkgs.dev.azure.com/o/_packaging/F/pypi/upload",
        ),
        ("https://h/a/pypi", "simple/", "https://h/a/pypi/simple/"),
        ("https://h/a?x=1#f", "b", "https://h/a/b"),
        ("https://h/a", "", "https://h/a"),
        ("https://h", "", "https://h/"),
        ("http://[::1]:8080/c", "d", "http://[::1]:8080/c/d"),
    ],
)
def test_join_under_keeps_every_segment_of_the_base(
    base: str, relative: str, expected: str
) -> None:
    assert join_under(base, relative) == expected


# Properties

_LABEL = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
_HOSTS = st.one_of(
    st.lists(_LABEL, min_size=1, max_size=4).map(".".join),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda address: f"[{address}]"),
)
_PATH_CHARACTERS = "abcXYZ019-._~%!$&'()*+,;=:@/"
_URLISH = st.one_of(
    st.text(),
    st.builds(
        "{}://{}".format,
        st.sampled_from(["http", "https", "HTTPS", "ftp", ""]),
        st.text(alphabet=st.sampled_from([*"ab1:@[]/?#% \n.-\\", "٨", "\u2028"])),
    ),
)


@settings(max_examples=100, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "Https"]),
    host=_HOSTS,
    port=st.none() | st.integers(1, 65535),
    path=st.text(alphabet=_PATH_CHARACTERS, max_size=20),
    query=st.none() | st.text(alphabet=_PATH_CHARACTERS + "?", max_size=10),
    fragment=st.none() | st.text(alphabet=_PATH_CHARACTERS + "?#", max_size=10),
)
def test_valid_urls_round_trip(
    scheme: str,
    host: str,
    port: int | None,
    path: str,
    query: str | None,
    fragment: str | None,
) -> None:
    target = "/" + path + (f"?{query}" if query is not None else "")
    text = f"{scheme}://{host}{f':{port}' if port else ''}{target}"
    text += f"#{fragment}" if fragment is not None else ""
    url = parse_url(text, WHAT)
    default = 443 if scheme.lower() == "https" else 80
    assert url == Url(scheme.lower(), host.strip("[]").lower(), port or default, target, text)
    assert parse_url(url.origin + url.target, WHAT)[:4] == url[:4]
    assert parse_url(f"{url.scheme}://{url.authority}{url.target}", WHAT)[:4] == url[:4]


@settings(max_examples=200, deadline=None)
@given(text=_URLISH)
def test_parse_url_and_parse_proxy_url_raise_only_input_error(text: str) -> None:
    for parse in (parse_url, parse_proxy_url):
        try:
            parse(text, WHAT)
        except InputError as error:
            assert str(error).startswith(WHAT)
    assert isinstance(is_pypi_upload(text), bool)


@settings(max_examples=200, deadline=None)
@given(
    middle=st.text(),
    scheme=st.sampled_from(["http://", "HTTPS://", ""]),
    encode=st.booleans(),
    host=st.sampled_from(["proxy.example:3128", "[::1]", "proxy:x", "", "proxy\n"]),
)
def test_proxy_errors_never_show_the_password(
    middle: str, scheme: str, encode: bool, host: str
) -> None:
    password = f"Sx9{middle}Qz"
    written = quote(password, safe="") if encode else password
    try:
        url, username, decoded = parse_proxy_url(f"{scheme}{USER}:{written}@{host}", PROXY)
    except InputError as error:
        message = str(error)
        for form in (USER, password, written, "Sx9", "Qz"):
            assert form not in message
        return
    assert username == USER
    assert decoded == (password if encode else unquote(password))
    assert url.host in ("proxy.example", "::1") and "Sx9" not in url.text


@settings(max_examples=200, deadline=None)
@given(
    text=_URLISH
    | st.builds(
        "https://{}/{}".format,
        st.sampled_from(["upload.pypi.org", "test.pypi.org", "UPLOAD.pypi.org:443", "x"]),
        st.sampled_from(["legacy", "legacy/", "legacy//", "", "legacy?"]),
    )
)
def test_is_pypi_upload_never_raises(text: str) -> None:
    assert isinstance(is_pypi_upload(text), bool)
