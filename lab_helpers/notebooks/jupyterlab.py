"""How ``lab start`` launches JupyterLab: the course's setting defaults, and a port said out loud.

The course's defaults live in ``jupyter_config/labconfig/default_setting_overrides.json`` next to
this file, put first on ``JUPYTER_CONFIG_PATH`` for the JupyterLab the course starts (never
written into the learner's own Jupyter configuration). They turn off the news-feed prompt and
the update check; a learner can still turn either on in Settings.

A port is never changed silently: a port the learner asked for that is in use is an error with
the fix, and when JupyterLab's usual port is taken the next free one is named with its URL.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

CONFIG_DIR = Path(__file__).resolve().parent / "jupyter_config"
DEFAULT_PORT = 8888  # JupyterLab's own default
PORT_TRIES = 50  # as many as JupyterLab's --ServerApp.port_retries default


def config_path_env(environ: dict[str, str] | None = None) -> str:
    """``JUPYTER_CONFIG_PATH`` with the course's folder first (highest priority), others kept."""
    current = (os.environ if environ is None else environ).get("JUPYTER_CONFIG_PATH", "")
    parts = [str(CONFIG_DIR)] + [p for p in current.split(os.pathsep) if p and p != str(CONFIG_DIR)]
    return os.pathsep.join(parts)


def port_is_free(ip: str, port: int) -> bool:
    """Whether JupyterLab could listen on ``ip:port`` (bound the way its server binds)."""
    try:
        infos = socket.getaddrinfo(ip or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return True  # let JupyterLab report an address it cannot use
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as s:
            if os.name == "posix":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(address)
            except OSError:
                return False
    return True


@dataclass(frozen=True)
class PortChoice:
    port: int
    note: str  # said to the learner when the port is not the one expected; "" otherwise


def _url(ip: str, port: int) -> str:
    host = "127.0.0.1" if ip in ("", "0.0.0.0", "::") else ip
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/lab"


def choose_port(ip: str, asked: int | None) -> PortChoice:
    """The port to start on. ``asked`` (``--port``) is used as is or refused; otherwise
    ``JUPYTER_PORT`` or 8888, else the next free one, named with its URL."""
    if asked is not None:
        if not port_is_free(ip, asked):
            raise UsageError(
                f"port {asked} on {ip} is in use (another JupyterLab?).",
                hint=f"Choose another with `lab start --port {asked + 1}`, or leave out --port "
                "to take the next free one.",
            )
        return PortChoice(asked, "")
    raw = os.environ.get("JUPYTER_PORT", "")
    first = int(raw) if raw.isdigit() else DEFAULT_PORT
    for port in range(first, first + PORT_TRIES + 1):
        if port_is_free(ip, port):
            if port == first:
                return PortChoice(port, "")
            return PortChoice(
                port,
                f"port {first} is in use (another JupyterLab?), so this one opens on port {port}: {_url(ip, port)}",
            )
    raise UsageError(
        f"ports {first} to {first + PORT_TRIES} on {ip} are all in use.",
        hint="Stop a JupyterLab you no longer need, or pick a port with `lab start --port N`.",
    )
