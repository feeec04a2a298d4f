"""The web page: ``python -m sample_app.web`` serves sample_app/static/ on 0.0.0.0:$PORT.

The page calls the api at the relative path ``api/...``, so it works wherever an Ingress puts
both on one host (``/api`` to the api, ``/`` here).
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import config

STATIC = Path(__file__).resolve().parent / "static"


def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def create_app() -> Starlette:
    return Starlette(routes=[Route("/healthz", healthz), Mount("/", StaticFiles(directory=STATIC, html=True))])


def main() -> None:
    import uvicorn

    settings = config.load_or_exit()
    uvicorn.run(create_app(), host="0.0.0.0", port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
