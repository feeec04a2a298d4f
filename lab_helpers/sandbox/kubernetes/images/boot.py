"""Starts a Python program inside a sandbox container: one of the registry's stand-ins
(``python -I -S boot.py PROGRAM [ARGS...]``), or, for an image whose ``python`` is the course's
own interpreter, what the image's command asks of ``python``: ``boot.py [-u] -m MODULE [ARGS...]``
(as ``python -m``: the working directory first on ``sys.path``) or ``boot.py [-u] SCRIPT [ARGS...]``.

Pods share the machine's network, each with its own loopback address, so a program that listens
on every address (``0.0.0.0``, as a server in a container usually does) is given its pod's
address instead: the address of its hostname in the pod's ``/etc/hosts``, or
``LAB_POD_IP`` where the container has no files of its own. Where the container runs in the
host's filesystem, ``LAB_PATH_MAP`` (JSON pairs of container path, host path) says where the
container's paths are; :func:`host_path` reads it. Such a container cannot have the pod's
``/etc/hosts`` at that path, so the program's own look-ups (``socket.getaddrinfo``,
``gethostbyname``) read the pod's hosts file first: a Service's name (``db``, ``db.NS.svc``)
resolves there as it does in a container with a root of its own.
"""

from __future__ import annotations

import io
import json
import os
import runpy
import socket
import sys
from typing import Any

_MAP = sorted(json.loads(os.environ.get("LAB_PATH_MAP") or "[]"), key=lambda p: -len(p[0]))


def host_path(path: str) -> str:
    """Where a path of the container is on this machine."""
    for inside, outside in _MAP:
        if path == inside or path.startswith(inside.rstrip("/") + "/"):
            return outside + path[len(inside.rstrip("/")) :]
    return path


def pod_ip() -> str:
    ip = os.environ.get("LAB_POD_IP", "")
    if ip:
        return ip
    name = socket.gethostname()
    try:
        with open("/etc/hosts", encoding="utf-8") as fh:
            for line in fh:
                fields = line.split("#", 1)[0].split()
                if len(fields) > 1 and name in fields[1:] and "." in fields[0]:
                    return fields[0]
    except OSError:
        pass
    return "127.0.0.1"


_bind = socket.socket.bind


def _pod_bind(self: socket.socket, address: Any) -> None:
    if self.family == socket.AF_INET and isinstance(address, tuple) and address[0] in ("", "0.0.0.0"):
        address = (pod_ip(), *address[1:])
    return _bind(self, address)


def hosts_address(name: str) -> str | None:
    """The address the pod's hosts file gives ``name``, where the container runs in the host's files
    (its ``/etc/hosts`` is elsewhere); None when the file does not name it, or the container has its own."""
    path = host_path("/etc/hosts")
    if path == "/etc/hosts" or not name:
        return None
    wanted = name.rstrip(".").lower()
    try:
        with open(path, encoding="utf-8") as fh:  # read each time: the kubelet rewrites it as Services change
            for line in fh:
                fields = line.split("#", 1)[0].split()
                if len(fields) > 1 and wanted in (f.lower() for f in fields[1:]):
                    return fields[0]
    except OSError:
        return None
    return None


_getaddrinfo = socket.getaddrinfo
_gethostbyname = socket.gethostbyname


def _pod_getaddrinfo(host: Any, *args: Any, **kw: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    found = hosts_address(name) if isinstance(name, str) else None
    return _getaddrinfo(found or host, *args, **kw)


def _pod_gethostbyname(name: str) -> str:
    return hosts_address(name) or _gethostbyname(name)


FLAGS = ("-u", "-B", "-E", "-s", "-O")  # options of ``python`` that may come before the program


def main() -> None:
    setattr(socket.socket, "bind", _pod_bind)  # noqa: B010 - the class attribute, for every socket made later
    if host_path("/etc/hosts") != "/etc/hosts":  # in the host's files: names from the pod's hosts file
        socket.getaddrinfo = _pod_getaddrinfo
        socket.gethostbyname = _pod_gethostbyname
    sys.modules["sandbox_boot"] = sys.modules[__name__]
    args = sys.argv[1:]
    while args and args[0] in FLAGS:
        if args[0] == "-u":
            for stream in (sys.stdout, sys.stderr):
                if isinstance(stream, io.TextIOWrapper):
                    stream.reconfigure(write_through=True)
        args = args[1:]
    if not args:
        sys.stderr.write("usage: python [-u] -m MODULE [ARGS...] | python [-u] SCRIPT [ARGS...]\n")
        sys.exit(2)
    if args[0] == "-m":
        if len(args) < 2:
            sys.stderr.write("Argument expected for the -m option\n")
            sys.exit(2)
        module = args[1]
        sys.argv = [module, *args[2:]]
        sys.path[0] = os.getcwd()  # as ``python -m`` puts it (in place of this launcher's folder)
        import importlib.util

        try:
            found = importlib.util.find_spec(module)
        except ImportError:
            found = None
        if found is None:
            sys.stderr.write(f"{sys.executable}: No module named {module}\n")
            sys.exit(1)
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return
    program = args[0]
    sys.argv = args
    sys.path.insert(0, os.path.dirname(program))
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main()
