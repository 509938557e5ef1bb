"""Offline GraphiQL: the page and the static mount that serves its bundle.

Strawberry's built-in GraphiQL page loads React and GraphiQL from a CDN, which government
intranets cannot reach. Our own bundle (``frontend/``, built by esbuild into
``coalhub/static/graphiql/`` by the hatch build hook or by ``npm run build``) holds every
byte the page needs, fonts included, and is served by this module at ``/static/graphiql``.

The app factory uses :func:`graphiql_html` for ``GET /graphql`` (browsers) and mounts
:func:`static_mount`.
"""

from __future__ import annotations

import html
from pathlib import Path

import anyio
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

__all__ = [
    "BUNDLE_DIR",
    "BUNDLE_FILES",
    "STATIC_PREFIX",
    "bundle_is_built",
    "graphiql_html",
    "static_mount",
]

#: Where ``npm run build`` (``frontend/build.mjs``) writes the bundle; git-ignored.
BUNDLE_DIR: Path = Path(__file__).resolve().parent / "static" / "graphiql"
#: The URL prefix the bundle is served under.
STATIC_PREFIX = "/static/graphiql"
#: The files the page loads, all from :data:`BUNDLE_DIR`.
BUNDLE_FILES: tuple[str, str] = ("graphiql.js", "graphiql.css")

_TITLE = "coalhub GraphQL 调试台 · GraphiQL"

_BUILD_HINT = """\
    <div class="coalhub-graphiql-missing" role="alert">
      <h1>GraphiQL 前端未构建 · GraphiQL front end not built</h1>
      <p>未找到 <code>coalhub/static/graphiql/graphiql.js</code> 和
        <code>graphiql.css</code>：本调试台不从 CDN 加载任何脚本，需要先在本地构建前端。</p>
      <p>The offline GraphiQL bundle (<code>coalhub/static/graphiql/</code>) is missing:
        this page never loads scripts from a CDN, so the front end must be built locally.</p>
      <p>构建方法 · How to build it (needs Node.js and npm; only the npm registry is used):</p>
      <pre><code>pip install -e .</code></pre>
      <p>或 · or</p>
      <pre><code>npm --prefix frontend ci &amp;&amp; npm --prefix frontend run build</code></pre>
      <p>GraphQL 接口本身不受影响 · The GraphQL endpoint itself works regardless:
        <code>POST {endpoint}</code></p>
    </div>
"""


class _BundleFiles(StaticFiles):
    """``StaticFiles`` that answers 404, not 500, while the bundle directory is missing.

    Starlette's ``check_config`` raises ``RuntimeError`` on the first request when the
    directory does not exist; an unbuilt front end must not turn into server errors.
    """

    async def check_config(self) -> None:
        if self.directory is not None and not await anyio.Path(self.directory).exists():
            return
        await super().check_config()


def bundle_is_built() -> bool:
    """Whether both bundle files exist (the page falls back to build instructions if not)."""
    return all((BUNDLE_DIR / name).is_file() for name in BUNDLE_FILES)


def _asset_url(name: str) -> str:
    """``/static/graphiql/<name>?v=...``: the query string changes with each build so a
    browser never keeps a stale bundle after an upgrade."""
    try:
        stat_result = (BUNDLE_DIR / name).stat()
    except OSError:
        return f"{STATIC_PREFIX}/{name}"
    return f"{STATIC_PREFIX}/{name}?v={stat_result.st_mtime_ns:x}{stat_result.st_size:x}"


def graphiql_html(endpoint: str = "/graphql") -> str:
    """The GraphiQL page for ``endpoint``; it loads only ``/static/graphiql/...`` assets.

    The endpoint reaches the bundle through the ``data-endpoint`` attribute of
    ``#graphiql``. When the bundle has not been built, the page says so (in Chinese and
    English) and tells how to build it.
    """
    endpoint_attr = html.escape(endpoint, quote=True)
    if bundle_is_built():
        css = html.escape(_asset_url("graphiql.css"), quote=True)
        js = html.escape(_asset_url("graphiql.js"), quote=True)
        head_assets = f'    <link rel="stylesheet" href="{css}">\n'
        body = (
            f'    <div id="graphiql" data-endpoint="{endpoint_attr}">'
            "正在加载 GraphiQL… · Loading GraphiQL…</div>\n"
            "    <noscript>GraphiQL 需要启用 JavaScript · "
            "GraphiQL needs JavaScript enabled.</noscript>\n"
            f'    <script src="{js}" defer></script>\n'
        )
    else:
        head_assets = ""
        body = _BUILD_HINT.replace("{endpoint}", html.escape(endpoint))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n'
        "  <head>\n"
        '    <meta charset="utf-8">\n'
        '    <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '    <meta name="robots" content="noindex">\n'
        f"    <title>{html.escape(_TITLE)}</title>\n"
        f"{head_assets}"
        "  </head>\n"
        "  <body>\n"
        f"{body}"
        "  </body>\n"
        "</html>\n"
    )


def static_mount() -> Mount:
    """Mount the bundle directory at ``/static/graphiql`` (``name="graphiql-static"``).

    Constructs even when the bundle has not been built (``check_dir=False``); requests
    then get 404 until it is.
    """
    return Mount(
        STATIC_PREFIX,
        app=_BundleFiles(directory=BUNDLE_DIR, check_dir=False),
        name="graphiql-static",
    )
