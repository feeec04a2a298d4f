"""CronJob schedules as the CronJob controller reads them: five fields or a macro (``@hourly``,
``@daily``...), in the CronJob's ``timeZone`` (UTC when it has none: the sandbox's controller manager
runs in UTC), and the start times a controller that looks at ``now`` has missed.

Parsing and stepping through times is cronsim's; this module adds what Kubernetes adds: the macros,
the messages, and the rule that more than 100 missed start times is reported as too many.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
TOO_MANY_MISSED = 100  # the controller gives up listing missed times past this many


BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # minute, hour, day of month, month, day of week


class ScheduleError(ValueError):
    """A schedule or time zone the controller cannot use (the message is the real one's)."""


def _check_range(field: str, low: int, high: int) -> None:
    """The standard parser's range errors (``end of range (61) above maximum (59): 61``)."""
    for part in field.split(","):
        span = part.split("/")[0]
        if span == "*" or not span:
            continue
        ends = span.split("-", 1)
        if not all(e.isdigit() for e in ends):
            continue
        start, end = int(ends[0]), int(ends[-1])
        if start < low:
            raise ScheduleError(f"beginning of range ({start}) below minimum ({low}): {part}")
        if end > high:
            raise ScheduleError(f"end of range ({end}) above maximum ({high}): {part}")
        if start > end:
            raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {part}")


def expression(schedule: str) -> str:
    """The five-field form of ``schedule`` (a macro expanded); raises :class:`ScheduleError`."""
    text = " ".join(schedule.split())
    if text.startswith(("TZ=", "CRON_TZ=")):
        raise ScheduleError("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    if text.startswith("@"):
        if text not in MACROS:
            raise ScheduleError(f"unrecognized descriptor: {text}")
        return MACROS[text]
    fields = text.split(" ") if text else []
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    for field, (low, high) in zip(fields, BOUNDS, strict=True):
        _check_range(field, low, high)
    try:
        CronSim(text, datetime(2000, 1, 1, tzinfo=timezone.utc))
    except CronSimError as err:
        raise ScheduleError(str(err)) from None
    return text


def zone(name: str | None) -> tzinfo:
    """The CronJob's time zone (UTC when unset); raises :class:`ScheduleError` for an unknown one."""
    if not name:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name}") from None


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule in its time zone."""

    expr: str
    tz: tzinfo

    @classmethod
    def parse(cls, schedule: str, time_zone: str | None = None) -> Schedule:
        return cls(expression(schedule), zone(time_zone))

    def next_after(self, when: float) -> float:
        """The first start time strictly after ``when`` (seconds since the epoch)."""
        start = datetime.fromtimestamp(when, self.tz)
        return next(CronSim(self.expr, start)).timestamp()

    def latest_at_or_before(self, when: float) -> float:
        """The last start time at or before ``when``."""
        start = datetime.fromtimestamp(int(when) + 1, self.tz)
        return next(CronSim(self.expr, start, reverse=True)).timestamp()

    def stamp(self, when: float) -> str:
        """``when`` in RFC 3339 in the schedule's zone, as the scheduled-time annotation carries it."""
        local = datetime.fromtimestamp(when, self.tz)
        offset = local.utcoffset() or timedelta(0)
        text = local.replace(microsecond=0).isoformat()
        return text[: -len("+00:00")] + "Z" if offset == timedelta(0) and text.endswith("+00:00") else text


@dataclass(frozen=True)
class Due:
    """What ``missed`` finds: the most recent unmet start time (None when none is due), how many were
    missed, and whether that is more than the controller lists."""

    latest: float | None
    count: int
    too_many: bool


def missed(sched: Schedule, earliest: float, now: float) -> Due:
    """Start times after ``earliest`` (the last scheduled time, or the CronJob's creation) up to ``now``."""
    first = sched.next_after(earliest)
    if first > now:
        return Due(None, 0, False)
    count, t = 1, first
    while count <= TOO_MANY_MISSED:
        t = sched.next_after(t)
        if t > now:
            break
        count += 1
    latest = sched.latest_at_or_before(now)
    return Due(latest, count, count > TOO_MANY_MISSED)


def job_name(cronjob: str, scheduled: float) -> str:
    """``<cronjob>-<minutes since the epoch>``: one Job per start time, whoever creates it."""
    return f"{cronjob}-{int(scheduled) // 60}"
