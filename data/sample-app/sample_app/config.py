"""Every environment variable the sample application reads, parsed in one place.

A bad value stops the part at start with one line that names the variable and what it accepts,
so a pod in a crash loop says in its log what to fix in its manifest.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import __version__

DEVICES = ("auto", "cpu", "gpu")


class ConfigError(ValueError):
    """An environment variable has a value the application cannot use."""


@dataclass(frozen=True)
class Settings:
    port: int = 8080
    database_url: str = "postgresql://app:app@db:5432/jobs"
    queue_url: str = "redis://queue:6379/0"
    uploads_container: str = "uploads"
    os_cloud: str = "openstack"
    os_client_config_file: str | None = None  # openstacksdk's own default search path when unset
    app_version: str = __version__
    model_url: str = "http://model:8080"
    poll_s: float = 1.0
    weights_dir: str = "/models"
    device: str = "auto"


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ConfigError(f"PORT={value!r}: set PORT to a TCP port number between 1 and 65535.")
    return int(value)


def _url(name: str, value: str, schemes: tuple[str, ...], example: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(f"{name}={value!r} is not a {' or '.join(schemes)} URL; for example {name}={example}")
    return value


def _poll_s(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0.05 <= seconds <= 60:
        raise ConfigError(f"POLL_S={value!r}: set POLL_S to a number of seconds between 0.05 and 60.")
    return seconds


def _device(value: str) -> str:
    if value not in DEVICES:
        raise ConfigError(f"DEVICE={value!r}: set DEVICE to one of {', '.join(DEVICES)}.")
    return value


def _not_empty(name: str, value: str) -> str:
    if not value.strip():
        raise ConfigError(f"{name} is empty: set it or remove it to use the default.")
    return value


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from ``environ`` (the process's environment by default), defaults for the rest."""
    env = os.environ if environ is None else environ
    d = Settings()
    return Settings(
        port=_port(env.get("PORT", str(d.port))),
        database_url=_url(
            "DATABASE_URL", env.get("DATABASE_URL", d.database_url), ("postgresql", "postgres"), d.database_url
        ),
        queue_url=_url("QUEUE_URL", env.get("QUEUE_URL", d.queue_url), ("redis",), d.queue_url),
        uploads_container=_not_empty("UPLOADS_CONTAINER", env.get("UPLOADS_CONTAINER", d.uploads_container)),
        os_cloud=_not_empty("OS_CLOUD", env.get("OS_CLOUD", d.os_cloud)),
        os_client_config_file=env.get("OS_CLIENT_CONFIG_FILE") or None,
        app_version=_not_empty("APP_VERSION", env.get("APP_VERSION", d.app_version)),
        model_url=_url("MODEL_URL", env.get("MODEL_URL", d.model_url), ("http", "https"), d.model_url).rstrip("/"),
        poll_s=_poll_s(env.get("POLL_S", str(d.poll_s))),
        weights_dir=_not_empty("WEIGHTS_DIR", env.get("WEIGHTS_DIR", d.weights_dir)),
        device=_device(env.get("DEVICE", d.device)),
    )


def load_or_exit(environ: Mapping[str, str] | None = None) -> Settings:
    """:func:`load`, or exit with the one-line reason (what a part's ``main`` calls)."""
    try:
        return load(environ)
    except ConfigError as exc:
        raise SystemExit(f"sample_app: {exc}") from None
