"""Static files a browser keeps: every URL of one carries its file's version, so it may be cached for a year.

``url_for("static", filename=...)`` gets ``?v=`` the file's size and modification time; a
request with the version the file has now is answered ``Cache-Control: public, max-age=…,
immutable``, so a page's scripts, styles and fonts (bpmn-js, Chart.js, the page scripts)
are not asked for again, not even revalidated, on the next page. A changed file gets a new
URL; a request without a version (or an outdated one) is answered as before, revalidated.
"""

from __future__ import annotations

import os

from flask import Flask, Response, request

YEAR = 365 * 24 * 3600


def version(app: Flask, filename: str) -> str | None:
    """Return the version of a static file (None when there is no such file)."""
    folder = app.static_folder
    if not folder:
        return None
    try:
        found = os.stat(os.path.join(folder, filename))
    except (OSError, ValueError):
        return None
    return f"{found.st_mtime_ns // 1_000_000:x}{found.st_size:x}"


def init_app(app: Flask) -> None:
    """Version the static URLs and let browsers keep the files they name."""

    @app.url_defaults
    def add_version(endpoint: str, values: dict[str, object]) -> None:
        if endpoint == "static" and "v" not in values and isinstance(values.get("filename"), str):
            found = version(app, str(values["filename"]))
            if found:
                values["v"] = found

    @app.after_request
    def keep_versioned(response: Response) -> Response:
        if (request.endpoint == "static" and response.status_code == 200 and request.args.get("v")
                and request.args["v"] == version(app, (request.view_args or {}).get("filename", ""))):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        return response
