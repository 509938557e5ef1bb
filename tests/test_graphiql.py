"""The offline GraphiQL page and its static bundle (coalhub.graphiql).

The bundle is built by the hatch build hook (``pip install -e .``) or by
``npm --prefix frontend ci && npm --prefix frontend run build``; the tests that need it
fail, rather than skip, when it is missing, so a CI that forgot to build it goes red.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from coalhub import graphiql
from coalhub.graphiql import BUNDLE_FILES, graphiql_html, static_mount

# Starlette 1.10's TestClient prefers the `httpx2` package; when only `httpx` is installed,
# importing starlette.testclient emits exactly this StarletteDeprecationWarning once, which
# filterwarnings=error turns into a collection error. Only that one message is ignored, only
# around this import; once `httpx2` is a dev dependency the warning is not emitted at all
# and this block is a no-op (it can then become a plain import).
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore",
        message=r"Using `httpx` with `starlette\.testclient` is deprecated; install `httpx2`",
        category=StarletteDeprecationWarning,
    )
    from starlette.testclient import TestClient

BUILD_HINT = (
    "GraphiQL bundle missing: run `pip install -e .` or "
    "`npm --prefix frontend ci && npm --prefix frontend run build`"
)

# Every absolute address the built bundle contains, and why none of them is fetched: XML
# namespace names (SVG) and links shown in messages. A bundle that fetched anything from
# the internet (scripts, fonts) would add a host here and fail the test below.
NAMED_NOT_FETCHED = frozenset(
    {
        "www.w3.org",  # SVG/XLink namespace identifiers
        "github.com",  # links in error messages and licence headers
        "yarnpkg.com",
        "reactjs.org",
        "en.wikipedia.org",
        "commonmark.org",
        "codemirror.net",
    }
)


async def _graphql_page(request: Request) -> HTMLResponse:
    return HTMLResponse(graphiql_html())


def _make_app() -> Starlette:
    return Starlette(routes=[Route("/graphql", _graphql_page, methods=["GET"]), static_mount()])


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(_make_app()) as test_client:
        yield test_client


@pytest.fixture
def bundle_dir() -> Path:
    missing = [name for name in BUNDLE_FILES if not (graphiql.BUNDLE_DIR / name).is_file()]
    if missing:
        pytest.fail(f"{BUILD_HINT} (missing {missing} in {graphiql.BUNDLE_DIR})")
    return graphiql.BUNDLE_DIR


def _asset_refs(page: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', page)


def test_page_loads_only_local_assets(client: TestClient, bundle_dir: Path) -> None:
    response = client.get("/graphql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="zh-CN">' in page
    assert "<title>coalhub GraphQL 调试台 · GraphiQL</title>" in page
    assert 'data-endpoint="/graphql"' in page
    assert "http://" not in page
    assert "https://" not in page
    assert "//" not in page.replace("<!DOCTYPE html>", "")  # no protocol-relative URL either
    refs = _asset_refs(page)
    assert sorted(ref.split("?")[0] for ref in refs) == [
        "/static/graphiql/graphiql.css",
        "/static/graphiql/graphiql.js",
    ]
    # Every <script>/<link> in the page is one of those two.
    assert len(re.findall(r"<(?:script|link)\b", page)) == len(refs)


@pytest.mark.parametrize(
    ("name", "content_type", "min_size"),
    [
        ("graphiql.js", "javascript", 200_000),
        ("graphiql.css", "text/css", 50_000),
    ],
)
def test_bundle_is_served(
    client: TestClient, bundle_dir: Path, name: str, content_type: str, min_size: int
) -> None:
    response = client.get(f"/static/graphiql/{name}")
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    assert len(response.content) >= min_size
    assert response.content == (bundle_dir / name).read_bytes()


def test_page_asset_urls_are_served(client: TestClient, bundle_dir: Path) -> None:
    for ref in _asset_refs(client.get("/graphql").text):
        assert client.get(ref).status_code == 200, ref


@pytest.mark.parametrize("name", BUNDLE_FILES)
def test_bundle_names_no_host_it_could_load_from(bundle_dir: Path, name: str) -> None:
    text = (bundle_dir / name).read_text(encoding="utf-8")
    hosts = set(re.findall(r"(?:https?:)?//([a-z0-9-]+(?:\.[a-z0-9-]+)+)", text, re.IGNORECASE))
    unexpected = sorted(host for host in hosts if host.lower() not in NAMED_NOT_FETCHED)
    assert not unexpected, f"{name} names hosts {unexpected}: the hub must work offline"


def test_css_loads_nothing_remote(bundle_dir: Path) -> None:
    # Fonts (Roboto, Fira Code) are inlined as data: URLs; no url()/@import goes out.
    css = (bundle_dir / "graphiql.css").read_text(encoding="utf-8")
    assert "@import" not in css
    remote = [u for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", css) if not u.startswith("data:")]
    assert remote == []


def test_endpoint_is_escaped(bundle_dir: Path) -> None:
    page = graphiql_html('/api/graphql?x="<y>')
    assert 'data-endpoint="/api/graphql?x=&quot;&lt;y&gt;"' in page


def test_unbuilt_bundle_page_and_mount(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(graphiql, "BUNDLE_DIR", tmp_path / "not-built")
    assert not graphiql.bundle_is_built()
    page = graphiql_html()
    assert '<html lang="zh-CN">' in page
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page
    assert "<link" not in page
    assert "前端未构建" in page
    assert "front end not built" in page
    assert "pip install -e ." in page
    assert "npm --prefix frontend ci &amp;&amp; npm --prefix frontend run build" in page
    # The mount constructs without the directory, and answers 404 (not 500) until built.
    with TestClient(_make_app()) as test_client:
        assert test_client.get("/graphql").status_code == 200
        assert test_client.get("/static/graphiql/graphiql.js").status_code == 404


def test_static_mount_name() -> None:
    mount = static_mount()
    assert mount.path == "/static/graphiql"
    assert mount.name == "graphiql-static"
