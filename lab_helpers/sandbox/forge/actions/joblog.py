"""A job's log as GitHub writes it: each line stamped ``2024-05-01T12:00:00.1234567Z``, groups opened with
``##[group]`` and errors as ``##[error]``, and every secret the run knows replaced by ``***``."""

from __future__ import annotations

import time
from pathlib import Path

__all__ = ["JobLog", "stamp"]


def stamp(ts: float | None = None) -> str:
    ts = time.time() if ts is None else ts
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int((ts % 1) * 1e7):07d}Z"


class JobLog:
    def __init__(self, path: Path, masks: list[str]) -> None:
        self.path = path
        self.masks = masks  # shared with the job: a secret added later is masked from then on
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def _masked(self, text: str) -> str:
        for secret in self.masks:
            if secret:
                text = text.replace(secret, "***")
        return text

    def line(self, text: str) -> None:
        for one in self._masked(text).splitlines() or [""]:
            self._fh.write(f"{stamp()} {one}\n")
        self._fh.flush()

    def group(self, title: str) -> None:
        self.line(f"##[group]{title}")

    def endgroup(self) -> None:
        self.line("##[endgroup]")

    def error(self, text: str) -> None:
        self.line(f"##[error]{text}")

    def close(self) -> None:
        self._fh.close()
