"""The GitOps controllers of the sandbox, like Argo CD's and Kargo's: Applications synced from git
(``application``), ApplicationSets making Applications from the forge's repositories (``applicationset``),
and the course's Promotion kind moving an Application to the newest image tag (``promotion``). Each is idle
until its CRD (``data/gitops/``) is Established."""

from __future__ import annotations

from .application import ApplicationController
from .applicationset import ApplicationSetController
from .promotion import PromotionController

__all__ = ["ApplicationController", "ApplicationSetController", "PromotionController"]
