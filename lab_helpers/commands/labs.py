"""`lab list`, `lab run`, `lab start`: the labs themselves."""

from __future__ import annotations

import sys


def _list(args) -> int:
    from ..catalog import all_labs
    from ..checks.progress import summary

    for lab in all_labs():
        passed, total = summary(lab.number)
        progress = f"{passed}/{total} checks" if total else "no checks"
        print(f"{lab.number}  {lab.title:<34} {lab.minutes:>3} min  {progress}")
    try:
        from ..resources.summary import running_summary
    except ImportError:
        return 0
    for line in running_summary():
        print(line)
    return 0


def _run(args) -> int:
    from ..backends import backend_named
    from ..catalog import all_labs, find_lab
    from ..errors import UsageError
    from ..notebooks.runner import DESCRIBE, Notebook, counts_as_progress, run_lab
    from ..notebooks.workspace import working_copy

    backend = backend_named(args.backend)
    labs = [find_lab(key) for key in args.labs] if args.labs else all_labs()
    kind: Notebook = "mine" if args.mine else "learner" if args.learner else "source"
    if kind == "mine":
        missing = [lab.number for lab in labs if not working_copy(lab.path.name).exists()]
        if missing:
            raise UsageError(
                f"no working copy of lab {', '.join(missing)} yet.",
                hint="`lab start` (or `lab start --prepare`) creates your copy of the labs.",
            )
    for lab in labs:  # fail fast, before any kernel starts, naming what is missing
        backend.require(lab.number)
    results = []
    for lab in labs:
        which = working_copy(lab.path.name) if kind == "mine" else lab.path if kind == "source" else None
        where = f", {which}" if which else ""
        print(
            f"running lab {lab.number} {lab.title!r} on the {backend} backend: {DESCRIBE[kind]}{where} "
            f"({counts_as_progress(kind)}) ...",
            file=sys.stderr,
            flush=True,
        )
        result = run_lab(
            lab,
            backend=backend,
            out_dir=args.out,
            notebook=kind,
            progress=not args.quiet,
            cell_timeout_s=args.cell_timeout,
        )
        results.append(result)
    print("\nlab  result   time     title")
    for result in results:
        print(result.line())
    tip = "" if kind == "mine" else "; `lab run --mine` runs your own copy and records its checks"
    print(f"ran {DESCRIBE[kind]}: {counts_as_progress(kind)}{tip}")
    failed = [r for r in results if not r.ok]
    if args.out:
        print(f"executed notebooks in {args.out}")
    if failed:
        names = ", ".join(f"{r.lab} (cell {r.cell_index})" for r in failed)
        print(f"lab: {len(failed)} of {len(results)} labs failed: {names}", file=sys.stderr)
        return 1
    return 0


def _set_workshop(url: str | None, token: str | None) -> None:
    """Save (or, with ``--workshop off``, forget) the workshop this learner's check results go to."""
    import json
    import os

    from ..config import workshop_file
    from ..errors import UsageError

    path = workshop_file()
    if url is not None and url.strip().lower() == "off":
        path.unlink(missing_ok=True)
        print("Workshop: off; your check results stay on this machine.")
        return
    if not url or not token:
        raise UsageError(
            "a workshop needs both its URL and its join token.",
            hint="Use `lab start --workshop URL --workshop-token TOKEN` as your instructor wrote them "
            "(`--workshop off` stops sending).",
        )
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"the workshop URL {url!r} does not start with http:// or https://.", hint="Copy it whole.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"url": url.rstrip("/"), "token": token}, fh)
    os.replace(tmp, path)
    print(f"Workshop: your check results go to {url.rstrip('/')} as you run the checks (`--workshop off` stops).")


def _start(args) -> int:
    import os
    import subprocess

    from ..config import resolve_backend
    from ..notebooks.jupyterlab import choose_port, config_path_env
    from ..notebooks.workspace import sync_workspace

    backend = resolve_backend(args.backend)
    if args.workshop is not None or args.workshop_token is not None:
        _set_workshop(args.workshop, args.workshop_token)
    choice = None if args.prepare else choose_port(args.ip, args.port)  # a busy --port: refuse before anything
    folder, sync = sync_workspace()
    for name in sync.created:
        print(f"  new      {name}")
    for name in sync.updated:
        print(f"  updated  {name}")
    for name in sync.beside:
        print(f"  added    {name} (the course's newer version of this lab, beside your edited copy)")
    print(f"Your working copy of the labs: {folder}  (backend: {backend})")
    if choice is None:
        return 0
    if choice.note:
        print(choice.note)
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.root_dir={folder}",
        f"--ServerApp.ip={args.ip}",
        "--LabApp.default_url=/lab/tree/00-start-here.ipynb",
        f"--ServerApp.port={choice.port}",
        "--ServerApp.port_retries=0",
    ]  # never move on silently
    from ..notebooks.runner import transport_encryption_supported

    if transport_encryption_supported():  # kernels talk to JupyterLab over CurveZMQ: nothing to warn about
        cmd.append("--KernelManager.transport_encryption=auto")
    if args.no_browser:
        cmd.append("--no-browser")
    if args.token is not None:
        cmd.append(f"--IdentityProvider.token={args.token}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and Binder-like hosts run as root
    env = {**os.environ, "LAB_BACKEND": backend, "JUPYTER_CONFIG_PATH": config_path_env()}
    sys.stdout.flush()
    if os.name == "posix":  # become JupyterLab, so Ctrl+C and kill reach it directly
        os.execve(sys.executable, cmd, env)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


def register(commands) -> None:
    p = commands.add_parser(
        "list",
        help="One line per lab: number, title, minutes, your progress.",
        description="List the labs with their estimated time and your progress (checks passed / total).",
    )
    p.set_defaults(func=_list)

    p = commands.add_parser(
        "run",
        help="Execute labs headless with papermill and print a summary.",
        description="Execute labs top to bottom with papermill (parameters injected): the solved "
        "source by default, which is not recorded as your progress; `--mine` runs your "
        "own working copy and records its checks. Exits non-zero naming the lab, the "
        "cell index and the error when one fails.",
    )
    p.add_argument("labs", nargs="*", metavar="LAB", help="lab numbers or names (default: all)")
    p.add_argument("--backend", help="sandbox or live (default: LAB_BACKEND, else sandbox)")
    p.add_argument("--out", help="folder for the executed notebooks (default: a temporary folder)")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--learner",
        action="store_true",
        help="run a fresh learner version (solutions removed) instead of the solved source",
    )
    which.add_argument(
        "--mine",
        action="store_true",
        help="run your own working copy (the one `lab start` opens); the only run recorded as your progress",
    )
    p.add_argument("--cell-timeout", type=int, default=600, metavar="SECONDS", help="per-cell time limit (default 600)")
    p.add_argument("--quiet", action="store_true", help="no per-cell progress bar")
    p.set_defaults(func=_run)

    p = commands.add_parser(
        "start",
        help="Open JupyterLab on your working copy of the labs.",
        description="Open JupyterLab on your own working copy of the labs (created on first use; "
        "your edits are never overwritten: a newer lab version is added beside an edited one).",
    )
    p.add_argument("--backend", help="sandbox or live (default: LAB_BACKEND, else sandbox)")
    p.add_argument(
        "--port",
        type=int,
        help="port for JupyterLab; refused with a message if it is in use "
        "(default: 8888, or the next free one, named with its URL)",
    )
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    p.add_argument(
        "--prepare", action="store_true", help="only create or update the working copy, then exit (Binder's build step)"
    )
    p.add_argument("--token", help="JupyterLab's access token (default: a random one, printed in the link)")
    p.add_argument(
        "--workshop",
        metavar="URL",
        help="send your check results to your instructor's workshop view at URL from now on (`off` stops); "
        "without it nothing is ever sent",
    )
    p.add_argument("--workshop-token", metavar="TOKEN", help="the workshop's join token, from your instructor")
    p.set_defaults(func=_start)
