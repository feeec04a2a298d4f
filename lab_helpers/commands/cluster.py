"""`lab cluster create | delete | list`: the sandbox's Kubernetes cluster, made from VMs as on Jetstream2."""

from __future__ import annotations

import argparse


def _create(args: argparse.Namespace) -> int:
    from ..kube import create_cluster

    gpu_workers = args.gpu_workers if args.gpu_workers is not None else (1 if args.gpu_flavor else 0)
    kwargs = {"gpu_flavor": args.gpu_flavor} if args.gpu_flavor else {}
    cluster = create_cluster(
        args.name,
        control_flavor=args.control_flavor,
        worker_flavor=args.worker_flavor,
        workers=args.workers,
        gpu_workers=gpu_workers,
        lab=args.lab,
        timeout_s=args.timeout,
        toleration_s=args.toleration_seconds,
        **kwargs,
    )
    print(cluster)
    return 0 if cluster.ready else 1


def _delete(args: argparse.Namespace) -> int:
    from ..kube import delete_cluster

    report = delete_cluster(args.name)
    print(report)
    return 1 if report.node_error else 0


def _list(args: argparse.Namespace) -> int:
    from ..kube import list_clusters

    clusters = list_clusters()
    if not clusters:
        print("no sandbox cluster: create one with `lab cluster create`")
    for cluster in clusters:
        print(cluster)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    from ..kube.lifecycle import CONTROL_FLAVOR, DEFAULT_LAB, DEFAULT_NAME, READY_TIMEOUT_S, WORKER_FLAVOR, WORKERS

    parser = commands.add_parser(
        "cluster",
        help="The sandbox's Kubernetes cluster: VMs in the sandbox cloud, each a Node.",
        description="Make, list and delete the sandbox's Kubernetes cluster, the way Jetstream2 users make one "
        "(a control-plane VM and worker VMs, which cost SUs like any VM).",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    sub.required = True
    text = (
        "Create the cluster (default: one m3.small control plane, two m3.medium workers); "
        "return once every node is Ready, with its context current."
    )
    p = sub.add_parser("create", help=text, description=text)
    p.add_argument("--name", default=DEFAULT_NAME, help=f"the cluster's name (default {DEFAULT_NAME})")
    p.add_argument(
        "--control-flavor", default=CONTROL_FLAVOR, help=f"control plane's flavor (default {CONTROL_FLAVOR})"
    )
    p.add_argument("--worker-flavor", default=WORKER_FLAVOR, help=f"workers' flavor (default {WORKER_FLAVOR})")
    p.add_argument("--workers", type=int, default=WORKERS, help=f"number of workers (default {WORKERS})")
    p.add_argument("--gpu-flavor", help="a g3 flavor for a GPU node group (e.g. g3.small); alone, one GPU worker")
    p.add_argument("--gpu-workers", type=int, help="number of GPU workers (default 0; 1 with --gpu-flavor)")
    p.add_argument("--lab", default=DEFAULT_LAB, help=f"the lab its VMs are marked with (default {DEFAULT_LAB})")
    p.add_argument(
        "--toleration-seconds",
        type=int,
        metavar="S",
        help="how long pods stay on a failed node before they are evicted (the API server's default "
        "not-ready/unreachable toleration; default 300 as in Kubernetes)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=READY_TIMEOUT_S,
        help=f"seconds to wait for Ready (default {READY_TIMEOUT_S:g})",
    )
    p.set_defaults(func=_create)
    text = "Delete the cluster: its Nodes, then its VMs, then its record."
    p = sub.add_parser("delete", help=text, description=text)
    p.add_argument("--name", help=f"the cluster's name (default: the one there is, else {DEFAULT_NAME})")
    p.set_defaults(func=_delete)
    text = "List the sandbox's cluster: its VMs, Nodes, readiness and SUs per hour."
    p = sub.add_parser("list", help=text, description=text)
    p.set_defaults(func=_list)
