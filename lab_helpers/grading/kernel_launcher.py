"""The grader's kernel launcher: apply limits, enter a fresh root, drop privileges, become the kernel.

Used as the ``argv`` of the grader's own kernelspec::

    python -m lab_helpers.grading.kernel_launcher --memory-mb 2048 ... --jail JAIL.json --uid 65534 -- \
        python -m ipykernel_launcher -f {connection_file}

Limits are set with ``resource`` before ``exec``, so they bind the kernel and all it starts. With
``--jail`` (the grader is root inside the submission's namespaces) the process pivots into the
minimal root of :mod:`.jail`; with ``--uid`` it then drops to that uid with no capabilities and
``no_new_privs``. If any of that fails the launcher exits without running the command: learner
code never runs with privileges it was not meant to have.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys


def _limit(which: int, value: int) -> None:
    _soft, hard = resource.getrlimit(which)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(which, (value, value))


def _close_inherited() -> None:
    """Close every descriptor above stderr: nothing of the grader's reaches the kernel."""
    try:
        fds = [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:
        return
    for fd in fds:
        if fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="kernel_launcher")
    parser.add_argument("--memory-mb", type=int, default=None)
    parser.add_argument("--file-mb", type=int, default=None)
    parser.add_argument("--processes", type=int, default=None)
    parser.add_argument("--uid", type=int, default=None)
    parser.add_argument("--home", default=None)
    parser.add_argument("--jail", default=None, help="a JSON jail spec: pivot into a fresh minimal root first")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]

    if args.memory_mb is not None:
        _limit(resource.RLIMIT_AS, args.memory_mb * 1024 * 1024)
    if args.file_mb is not None:
        _limit(resource.RLIMIT_FSIZE, args.file_mb * 1024 * 1024)
    _limit(resource.RLIMIT_CORE, 0)
    privileged = os.geteuid() == 0
    if args.uid is not None and privileged and "-f" in command and args.home:
        # the connection file is root's (0600) and outside the new root: hand the kernel its own copy
        index = command.index("-f") + 1
        copy = os.path.join(args.home, ".kernel-connection.json")
        shutil.copyfile(command[index], copy)
        from .jail import uid_mapped

        if uid_mapped(args.uid):  # else the kernel's nested user namespace makes it this file's owner
            os.chown(copy, args.uid, args.uid)
        os.chmod(copy, 0o600)
        command[index] = copy
    cwd = os.getcwd()
    try:
        if args.jail is not None:
            from .jail import JailSpec, enter

            enter(JailSpec.load(args.jail))
        if args.uid is not None and privileged:
            from .jail import drop_privileges

            if args.processes is not None:
                _limit(resource.RLIMIT_NPROC, args.processes)
            drop_privileges(args.uid)
        os.chdir(cwd if os.path.isdir(cwd) else "/")
    except Exception as exc:  # never run the learner's code half-confined
        print(f"kernel_launcher: refusing to start: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        os._exit(70)
    _close_inherited()
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
