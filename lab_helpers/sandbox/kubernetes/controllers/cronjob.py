"""CronJob: Jobs on a schedule, with concurrency policy and history limits.
To be filled in."""

from __future__ import annotations

from .loop import Controller


class CronJobController(Controller):
    name = "cronjob-controller"
