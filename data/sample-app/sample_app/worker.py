"""The worker: takes a job id from the queue, reads the upload, asks the model, writes the result.

``python -m sample_app.worker``. Each job gets one try at each step (a few quick attempts at the
model, which may be starting); a job that cannot be done is marked failed with the reason, never
retried forever. SIGTERM (what Kubernetes sends before it stops a pod) lets the current job
finish, then the worker exits 0.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from . import config
from .db import Database
from .jobqueue import JobQueue
from .pixels import BadPixels, check_pixels
from .store import Store

MODEL_ATTEMPTS = 3
MODEL_TIMEOUT_S = 10.0
log = logging.getLogger("sample_app.worker")


class JobFailed(Exception):
    """This job cannot be done; the message is what the jobs table shows as its error."""


def predict(model_url: str, pixels: list[float], *, pause_s: float = 1.0) -> dict[str, Any]:
    """The model service's answer for one digit; JobFailed with the reason if there is none."""
    request = urllib.request.Request(
        f"{model_url}/predict",
        data=json.dumps({"pixels": pixels}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    reason = ""
    for attempt in range(1, MODEL_ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=MODEL_TIMEOUT_S) as response:
                answer = json.loads(response.read())
            if not isinstance(answer, dict) or not isinstance(answer.get("label"), int):
                raise JobFailed(f"model service answered without a label: {str(answer)[:300]}")
            return answer
        except urllib.error.HTTPError as exc:
            reason = f"model service answered {exc.code}: {exc.read()[:300].decode(errors='replace')}"
            if exc.code != 503:  # 503 = still loading its weights: worth another try; others are final
                break
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = f"model service at {model_url} did not answer: {getattr(exc, 'reason', exc)}"
        if attempt < MODEL_ATTEMPTS:
            time.sleep(pause_s)
    raise JobFailed(reason)


class Worker:
    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.queue = JobQueue(settings.queue_url)
        self.store = Store(settings.os_cloud, settings.uploads_container, settings.os_client_config_file)
        self.stopping = threading.Event()

    def run_one(self, job_id: str) -> str:
        """Do one job; returns its final status ("done", "failed", or "skipped" if it was not queued)."""
        if not self.db.start(job_id):
            log.warning("job %s is not queued (unknown, or taken already): skipped", job_id)
            return "skipped"
        try:
            job = self.db.get(job_id)
            if job is None:
                raise JobFailed("the job's row disappeared while it ran")
            try:
                upload = json.loads(self.store.get(job["object_name"]))
                pixels = check_pixels(upload.get("pixels") if isinstance(upload, dict) else None)
            except BadPixels as exc:
                raise JobFailed(f"the stored upload is not a digit: {exc}") from None
            except Exception as exc:
                raise JobFailed(f"could not read {job['object_name']} from the object store: {exc}") from None
            answer = predict(self.settings.model_url, pixels, pause_s=self.settings.poll_s)
            self.db.finish(job_id, int(answer["label"]), float(answer["confidence"]), str(answer.get("model", "")))
            log.info("job %s: done, label %s (%.2f)", job_id, answer["label"], answer["confidence"])
            return "done"
        except JobFailed as exc:
            log.warning("job %s: failed: %s", job_id, exc)
            self.db.fail(job_id, str(exc))
            return "failed"

    def run(self) -> None:
        """Until stopped: wait up to POLL_S for a job, do it, repeat."""
        log.info("worker ready: queue %s, model %s", self.settings.queue_url.split("@")[-1], self.settings.model_url)
        while not self.stopping.is_set():
            try:
                job_id = self.queue.pop(self.settings.poll_s)
                if job_id is not None:
                    self.run_one(job_id)
            except Exception as exc:  # the database or queue is down: say so, wait, try again
                log.error("cannot reach the database or queue (%s: %s); retrying", type(exc).__name__, exc)
                self.stopping.wait(self.settings.poll_s)
        log.info("worker stopped")


def main() -> None:
    settings = config.load_or_exit()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    worker = Worker(settings)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: worker.stopping.set())
    worker.run()


if __name__ == "__main__":
    main()
