"""`lab cleanup`: remove what the labs created on a backend, in the order the APIs require."""

from __future__ import annotations


def _cleanup(args) -> int:
    from ..catalog import find_lab
    from ..cloud import connect_cloud
    from ..config import learner_id, resolve_backend
    from ..resources.cleanup import cleanup

    backend = resolve_backend(args.backend)
    lab = find_lab(args.lab).number if args.lab else None  # an unknown lab: exit 2, naming the valid ones
    learner = None if args.expired else learner_id()
    report = cleanup(connect_cloud(backend), learner=learner, lab=lab, dry_run=args.dry_run, expired_only=args.expired)
    print(report)
    return 1 if report.failed else 0


def register(commands) -> None:
    p = commands.add_parser(
        "cleanup",
        help="Remove what the labs created (yours only), in the order the APIs require.",
        description="Find every resource the labs created for you on a backend (by their tags, "
        "metadata and names) and delete it: a sandbox cluster (its Nodes, then its VMs), floating IPs, "
        "attachments, servers, ports, volumes, objects, containers, security groups, keypairs.",
    )
    p.add_argument("--lab", help="only this lab's resources (e.g. 03)")
    p.add_argument("--backend", help="sandbox or live (default: LAB_BACKEND, else sandbox)")
    p.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")
    p.add_argument(
        "--expired",
        action="store_true",
        help="workshop hosts: remove every learner's resources whose expiry has passed",
    )
    p.set_defaults(func=_cleanup)
