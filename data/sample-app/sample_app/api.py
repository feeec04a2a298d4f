"""The api: accepts a digit, stores it, queues a job, and reports jobs from the database.

Every route is under ``/api`` so one Ingress sends ``/api`` here and ``/`` to the web page.
Run it with ``python -m sample_app.api`` (uvicorn on 0.0.0.0:$PORT).
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import config
from .db import Database
from .jobqueue import JobQueue
from .pixels import BadPixels, pixels_from_csv, pixels_from_json
from .store import Store

MAX_UPLOAD_BYTES = 64 * 1024
log = logging.getLogger("sample_app.api")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(settings: config.Settings) -> Starlette:
    """The api over the database, queue and object store that ``settings`` name."""
    db = Database(settings.database_url)
    queue = JobQueue(settings.queue_url)
    store = Store(settings.os_cloud, settings.uploads_container, settings.os_client_config_file)

    def healthz(request: Request) -> JSONResponse:
        # ready only when both the database and the queue answer: Kubernetes sends no traffic before
        problems: dict[str, str] = {}
        for name, check in (("database", db.ping), ("queue", queue.ping)):
            try:
                check()
            except Exception as exc:
                problems[name] = f"{type(exc).__name__}: {exc}"
        if problems:
            return JSONResponse({"ok": False, **problems}, status_code=503)
        return JSONResponse({"ok": True})

    def version(request: Request) -> JSONResponse:
        return JSONResponse({"version": settings.app_version})

    async def submit(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
            return _error(413, f"the upload is {declared} bytes; the limit is {MAX_UPLOAD_BYTES} (64 KiB).")
        body = b""
        async for chunk in request.stream():  # read no further than the limit, whatever the header said
            body += chunk
            if len(body) > MAX_UPLOAD_BYTES:
                return _error(413, f"the upload is over {MAX_UPLOAD_BYTES} bytes (64 KiB), the limit.")
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if media_type == "application/json":
                pixels = pixels_from_json(body)
            elif media_type == "text/csv":
                pixels = pixels_from_csv(body)
            else:
                return _error(
                    415, f"Content-Type {media_type or '(none)'!r} is not accepted: send application/json or text/csv."
                )
        except BadPixels as exc:
            return _error(400, str(exc))
        return await _create_job(pixels)

    async def _create_job(pixels: list[float]) -> JSONResponse:
        job_id = uuid.uuid4().hex
        object_name = f"{job_id}.json"
        upload = json.dumps({"pixels": pixels}).encode()
        try:
            await run_in_threadpool(store.put, object_name, upload)
        except Exception as exc:
            log.warning("job %s: object store failed: %s", job_id, exc)
            return _error(503, f"the object store did not take the upload ({type(exc).__name__}); try again later.")
        try:
            await run_in_threadpool(db.insert, job_id, object_name, settings.app_version)
        except Exception as exc:
            log.warning("job %s: database failed: %s", job_id, exc)
            return _error(503, f"the database did not record the job ({type(exc).__name__}); try again later.")
        try:
            await run_in_threadpool(queue.push, job_id)
        except Exception as exc:
            log.warning("job %s: queue failed: %s", job_id, exc)
            with contextlib.suppress(Exception):  # the job stays queued-but-lost only if the database fails too
                await run_in_threadpool(db.fail, job_id, f"could not be queued: {type(exc).__name__}: {exc}")
            return _error(503, f"the queue did not take the job ({type(exc).__name__}); try again later.")
        return JSONResponse({"id": job_id, "status": "queued"}, status_code=202)

    def list_jobs(request: Request) -> JSONResponse:
        return JSONResponse(db.newest())

    def one_job(request: Request) -> JSONResponse:
        job: dict[str, Any] | None = db.get(request.path_params["job_id"])
        if job is None:
            return _error(404, f"no job {request.path_params['job_id']!r}; GET /api/jobs lists the newest 50.")
        return JSONResponse(job)

    routes = [
        Route("/api/healthz", healthz),
        Route("/api/version", version),
        Route("/api/jobs", submit, methods=["POST"]),
        Route("/api/jobs", list_jobs, methods=["GET"]),
        Route("/api/jobs/{job_id}", one_job, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def main() -> None:
    import uvicorn

    settings = config.load_or_exit()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host="0.0.0.0", port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
