"""The course as a static website (``lab site``): Sphinx with MyST-NB over the executed labs."""

from .build import SiteError, SiteResult, build_site
from .leaks import find_leaks, scan_folder

__all__ = ["SiteError", "SiteResult", "build_site", "find_leaks", "scan_folder"]
