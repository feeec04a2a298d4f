"""ResourceQuota: status.used of each quota.
To be filled in."""

from __future__ import annotations

from .loop import Controller


class ResourceQuotaController(Controller):
    name = "resourcequota-controller"
