"""The grader's kernel launcher: apply limits, drop privileges, then become the real kernel.

Used as the ``argv`` of the grader's own kernelspec::

    python -m lab_helpers.grading.kernel_launcher --memory-mb 2048 ... -- python -m ipykernel_launcher -f {connection_file}

Limits are set with ``resource`` before ``exec``, so they bind the kernel and all it starts.
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


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="kernel_launcher")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--file-mb", type=int, required=True)
    parser.add_argument("--processes", type=int, required=True)
    parser.add_argument("--uid", type=int, default=None)
    parser.add_argument("--home", default=None)
    args = parser.parse_args(argv[:split])
    command = argv[split + 1:]

    _limit(resource.RLIMIT_AS, args.memory_mb * 1024 * 1024)
    _limit(resource.RLIMIT_FSIZE, args.file_mb * 1024 * 1024)
    _limit(resource.RLIMIT_CORE, 0)
    if args.uid is not None and os.geteuid() == 0:
        # the connection file is root's (0600): hand the kernel its own copy, then drop root
        if "-f" in command and args.home:
            index = command.index("-f") + 1
            copy = os.path.join(args.home, ".kernel-connection.json")
            shutil.copyfile(command[index], copy)
            os.chown(copy, args.uid, args.uid)
            os.chmod(copy, 0o600)
            command[index] = copy
        _limit(resource.RLIMIT_NPROC, args.processes)
        os.setgroups([])
        os.setgid(args.uid)
        os.setuid(args.uid)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
