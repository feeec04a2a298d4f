"""A run's progress, kept in ``OUT/grading-status.json`` as each Job starts and ends, so that
``lab grade --status --out OUT`` can say how far a run is from another terminal."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ...errors import UsageError

STATUS_FILE = "grading-status.json"


@dataclass
class RunStatus:
    lab: str
    where: str  # the context and namespace
    total: int  # submissions this run grades (those already graded are not counted)
    skipped: int  # already graded in OUT, not run again
    parallelism: int
    started: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    done: int = 0
    running: int = 0
    failed: int = 0  # submissions whose Job failed twice (graded from nothing, with the reason)
    retried: list[str] = field(default_factory=list)  # "submission: reason" of each retry
    seconds: list[float] = field(default_factory=list)  # each finished Job's wall time, start to result
    pid: int = field(default_factory=os.getpid)
    finished: bool = False

    def eta_s(self) -> float | None:
        """Seconds left: the Jobs still to finish, at the mean Job time, ``parallelism`` at a time."""
        if not self.seconds:
            return None
        left = self.total - self.done
        mean = sum(self.seconds) / len(self.seconds)
        return left * mean / max(1, self.parallelism)

    def save(self, out: Path) -> None:
        self.updated = time.time()
        tmp = out / f".{STATUS_FILE}.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        os.replace(tmp, out / STATUS_FILE)

    @classmethod
    def load(cls, out: Path | str) -> RunStatus:
        path = Path(out) / STATUS_FILE
        if not path.exists():
            raise UsageError(
                f"no Kubernetes grading run has written {path}.",
                hint="Start one with lab grade --on kubernetes --lab NN --key KEY --out OUT SUBMISSION ...",
            )
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def text(self) -> str:
        alive = _alive(self.pid)
        state = "finished" if self.finished else ("running" if alive else "stopped (run it again to resume)")
        lines = [
            f"lab {self.lab} on {self.where}: {state}",
            f"  {self.done}/{self.total} graded, {self.running} running, {self.failed} failed twice"
            + (f", {self.skipped} already graded before this run" if self.skipped else ""),
        ]
        if self.seconds:
            mean = sum(self.seconds) / len(self.seconds)
            lines.append(f"  {mean:.1f} s per submission per Job, {self.parallelism} at a time")
        eta = self.eta_s()
        if eta is not None and not self.finished:
            lines.append(f"  about {_duration(eta)} left")
        lines.append(
            f"  started {_duration(time.time() - self.started)} ago, updated {_duration(time.time() - self.updated)} ago"
        )
        lines += [f"  retried: {r}" for r in self.retried]
        return "\n".join(lines)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
