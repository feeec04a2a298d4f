"""`lab release`, `lab submit`, `lab grade`, `lab bench grading`: instructors grade completed labs."""

from __future__ import annotations

import sys

from ..config import SANDBOX


def _release(args) -> int:
    import warnings

    from ..grading.release import release

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = release(args.labs, args.out)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    for r in done:
        print(r.line())
    print(f"Hand out {args.out}/learner/; keep {args.out}/key/ to yourself (lab grade --key {args.out}/key).")
    return 0


def _submit(args) -> int:
    from ..grading.submit import submit

    path = submit(args.lab, args.notebook, args.out, args.backend)
    print(f"Ready to hand in: {path}")
    return 0


def _limits(args):
    from ..grading.isolation import Limits

    return Limits(
        cell_s=args.cell_timeout,
        notebook_s=args.notebook_timeout,
        memory_mb=args.memory_mb,
        output_kb=args.output_kb,
        probe_s=args.probe_timeout,
    )


def _grade(args) -> int:
    from pathlib import Path

    from ..errors import UsageError
    from ..grading import batch
    from ..grading.gradebook import merge_manual

    if args.status:
        from ..grading.kubernetes import RunStatus

        print(RunStatus.load(args.out).text())
        return 0
    if args.merge_manual:
        merged, blank = merge_manual(args.merge_manual, args.out)
        print(f"merged {merged} manual grades into {Path(args.out) / 'grades.csv'}; {blank} rows still blank")
        return 0
    if not args.lab or not args.key:
        raise UsageError(
            "--lab and --key are needed to grade.", hint="lab grade --lab 00 --key DIR/key --out OUT SUBMISSION ..."
        )
    from ..catalog import find_lab

    args.lab = find_lab(args.lab).number  # an unknown lab: exit 2, naming the valid ones
    if args.only_check:
        gb = batch.regrade_check(args.lab, args.key, args.out, args.only_check, args.submissions or None)
        print(f"re-judged {args.only_check} for {len(gb.grades)} submissions in {Path(args.out) / 'grades.csv'}")
        return 0
    submissions = list(args.submissions) + ([args.regrade] if args.regrade else [])
    if not submissions:
        raise UsageError("no submissions given.", hint="Pass .ipynb files or folders, or --regrade SUBMISSION.")
    if args.on == "kubernetes":
        from ..grading.kubernetes import grade_on_kubernetes

        gb = grade_on_kubernetes(
            args.lab,
            args.key,
            args.out,
            submissions,
            context=args.context,
            parallelism=args.parallelism,
            limits=_limits(args),
            backend=args.backend,
            image=args.image,
            regrade=[args.regrade] if args.regrade else None,
            progress=not args.quiet,
        )
    else:
        gb = batch.grade(
            args.lab,
            args.key,
            args.out,
            submissions,
            jobs=args.jobs,
            limits=_limits(args),
            allow_network=args.allow_network,
            backend=args.backend,
            progress=not args.quiet,
        )
    given = set(submissions)
    shown = [g for g in gb.grades if g.submission in given] or gb.grades
    print(f"{'submission':<48} {'learner':<16} {'score':>11}  notes")
    for g in shown:
        notes = "; ".join(g.flags + g.limits_hit + g.problems)
        print(f"{g.submission[-48:]:<48} {g.learner[:16]:<16} {g.score:>5g}/{g.max_score:<5g}  {notes}")
    full = sum(1 for g in shown if g.score >= g.max_score)
    print(
        f"\n{len(shown)} graded, {full} with full marks; grades.csv, lms.csv, feedback/, summary.html, "
        f"manual-grading.csv and grading.log in {args.out}"
    )
    _print_rubrics(args.key, args.lab)
    return 0


def _print_rubrics(key_dir, lab: str) -> None:
    """Where the rubric of each hand-graded check is, for whoever fills in manual-grading.csv."""
    from ..grading.key import load_key
    from ..grading.manual import rubric_notes

    for line in rubric_notes(load_key(key_dir, lab)):
        print(line)


def _bench(args) -> int:
    if args.on == "kubernetes":
        from ..grading.kubernetes.bench import run_kubernetes_bench

        print(run_kubernetes_bench(submissions=args.submissions, workers=args.jobs).text())
        return 0
    from ..grading.bench import run_bench

    print(run_bench(submissions=args.submissions, jobs=args.jobs).text())
    return 0


def register(commands) -> None:
    from ..cli import group
    from ..grading.isolation import Limits

    p = commands.add_parser("release", help="Write learner versions (to hand out) and grading keys (to keep).")
    p.add_argument("labs", nargs="*", metavar="LAB", help="labs to release (default: all)")
    p.add_argument("--out", required=True, help="folder for learner/ and key/")
    p.set_defaults(func=_release)

    p = commands.add_parser("submit", help="Stamp your notebook with your id and the lab version, ready to hand in.")
    p.add_argument("lab", help="lab number, e.g. 00")
    p.add_argument("--notebook", help="the notebook you worked in (default: your working copy)")
    p.add_argument("--out", help="where to write NN-slug.submission.ipynb (default: current folder)")
    p.add_argument("--backend", help="the backend you used (default: LAB_BACKEND or sandbox)")
    p.set_defaults(func=_submit)

    d = Limits()
    p = commands.add_parser("grade", help="Grade submissions in isolation; write grades, feedback and a class summary.")
    p.add_argument("submissions", nargs="*", metavar="SUBMISSION", help=".ipynb files or folders")
    p.add_argument("--lab", help="the lab graded, e.g. 00")
    p.add_argument("--key", help="the key/ folder `lab release` wrote")
    p.add_argument("--out", required=True, help="output folder (grades.csv, feedback/, ...)")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    p.add_argument("--backend", default=SANDBOX, help=f"backend the notebooks run against (default {SANDBOX})")
    p.add_argument("--cell-timeout", type=float, default=d.cell_s, help=f"seconds per cell (default {d.cell_s:g})")
    p.add_argument(
        "--notebook-timeout", type=float, default=d.notebook_s, help=f"seconds per notebook (default {d.notebook_s:g})"
    )
    p.add_argument("--memory-mb", type=int, default=d.memory_mb, help=f"kernel memory limit (default {d.memory_mb})")
    p.add_argument(
        "--output-kb", type=int, default=d.output_kb, help=f"output kept per notebook (default {d.output_kb})"
    )
    p.add_argument(
        "--probe-timeout",
        type=float,
        default=d.probe_s,
        metavar="SECONDS",
        help=f"seconds one cloud-state probe may take (default {d.probe_s:g})",
    )
    p.add_argument(
        "--allow-network", action="store_true", help="grade without isolation where namespaces cannot be made"
    )
    p.add_argument("--regrade", metavar="SUBMISSION", help="grade one submission again; its row is replaced")
    p.add_argument("--only-check", metavar="NAME", help="judge one check again from the captured answers")
    p.add_argument("--merge-manual", metavar="SHEET", help="merge a filled-in manual-grading sheet into grades.csv")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--on",
        choices=["local", "kubernetes"],
        default="local",
        help="where submissions run: this machine (default) or one Kubernetes Job each on a cluster",
    )
    p.add_argument("--context", help="with --on kubernetes: the kubeconfig context (default: the current one)")
    p.add_argument("--parallelism", type=int, default=2, help="with --on kubernetes: Jobs running at once (default 2)")
    p.add_argument("--image", help="with --on kubernetes: the grader image (default: this course version's)")
    p.add_argument("--status", action="store_true", help="how far the Kubernetes grading run into --out is")
    p.set_defaults(func=_grade)

    bench = group(commands, "bench", "Benchmarks that print numbers.")
    p = bench.add_parser("grading", help="Grading overhead against plain papermill, and submissions per minute.")
    p.add_argument("--submissions", type=int, default=4, help="copies of lab 00 graded per measurement (default 4)")
    p.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="worker counts to measure (default 1 2)")
    p.add_argument(
        "--on",
        choices=["local", "kubernetes"],
        default="local",
        help="kubernetes: also grade as Jobs on a throwaway sandbox cluster (overhead per submission, a plan for JS2)",
    )
    p.set_defaults(func=_bench)
