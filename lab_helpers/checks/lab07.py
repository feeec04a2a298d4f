"""Lab 07 "Describe your needs": checks.

Every judge re-derives its truth from ``data/capstone.yaml`` and the course's own sizing code
(``lab_helpers.capstone``), with the rates the learner's notebook used (their lab 01 numbers or the
references), never from a table of answers. Where an answer is wrong the judge tries the usual
wrong turns (adding the roofline's two times, forgetting the launches, 720 hours a month, the
control plane left out, Delta's minimum charge) and says which one it was. Designs are judged on
what they carry (pods packed onto the workers as a scheduler would, a Delta job long enough) and on
what they cost beside the cheapest group of workers that carries the same pods.
"""

from __future__ import annotations

import math
from typing import Any

from .answers import as_number, choice_answer, fold, mapping_answer, rendered_chart, sentence
from .registry import Verdict, register

__all__ = ["probe_leftovers", "probe_serving", "serving_as_sized"]

DESIGNS = ("all on Jetstream2", "Jetstream2 + Delta")
RELEASE = "capstone-api"
WASTE = 1.5  # a design whose workers burn more than this times the cheapest carrier's SUs gets half credit


def _machines(context: dict) -> dict:
    from ..capstone.rates import MachineRates, rates

    given = context.get("rates")
    if isinstance(given, dict) and given:
        try:
            return {k: MachineRates.from_dict(v) for k, v in given.items()}
        except (KeyError, TypeError, ValueError):
            pass
    return rates()


def _close(a: Any, b: float, rel: float = 0.02) -> bool:
    x = as_number(a)
    return x is not None and math.isclose(x, b, rel_tol=rel, abs_tol=1e-9)


# --- compute --------------------------------------------------------------------------------


def _variants(machines: dict) -> dict[str, dict]:
    """The tables the usual wrong models give, to name the mistake."""
    from ..capstone.sizing import need_per_video_hour

    models = {
        "the launches, the arithmetic and the memory traffic added up: the roofline takes the larger of the last "
        "two, since a kernel moves bytes while it computes": lambda f, b, n, m: (
            n * m.launch_s + f / m.flops_per_s + b / m.bytes_per_s
        ),
        "no launches: each kernel launch costs the machine's launch time (lab 01 measured it), and a small model "
        "at batch 1 launches hundreds per item": lambda f, b, n, m: max(f / m.flops_per_s, b / m.bytes_per_s),
        "the arithmetic only: the memory traffic can take longer (the roofline's sloped side)": lambda f, b, n, m: (
            n * m.launch_s + f / m.flops_per_s
        ),
        "the memory traffic only: the arithmetic can take longer (the roofline's flat side)": lambda f, b, n, m: (
            n * m.launch_s + b / m.bytes_per_s
        ),
    }
    return {why: need_per_video_hour(model, machines) or {} for why, model in models.items()}


@register(
    "07.compute",
    points=3,
    question="Write lab 01's model of a kernel's time; the lab applies it to each stage on each machine.",
    shape="a dict {stage: {machine: seconds per hour of video}}, as sizing.need_per_video_hour returns it",
)
def _compute(answer, context):
    from ..capstone.sizing import need_per_video_hour, seconds_per_item

    machines = _machines(context)
    truth = need_per_video_hour(seconds_per_item, machines) or {}
    if not isinstance(answer, dict) or not all(isinstance(answer.get(s), dict) for s in truth):
        return Verdict.no(
            "Answer with the table need_per_video_hour made from your seconds_per_item: "
            f"{{stage: {{machine: seconds}}}} for the stages {', '.join(truth)}."
        )
    cells = [(s, k) for s in truth for k in truth[s]]
    wrong = [(s, k) for s, k in cells if not _close(answer[s].get(k), truth[s][k])]
    if not wrong:
        return Verdict.ok(
            "Launches first, then the arithmetic or the bytes, whichever takes longer: "
            + ", ".join(f"{s} {truth[s]['a40']:.3g} A40-s and {truth[s]['vcpu']:,.0f} vCPU-s" for s in truth)
            + " per hour of video."
        )
    named = next(
        (
            why
            for why, table in _variants(machines).items()
            if all(_close(answer[s].get(k), table[s][k]) for s, k in wrong)
        ),
        None,
    )
    s, k = wrong[0]
    got = answer[s].get(k)
    detail = named or (
        f"{s} on {k}: {got!r} s, where the model gives {truth[s][k]:.4g} s per hour of video. Use the arguments as "
        "given: flops and nbytes per item, launches per item, and the machine's flops_per_s, bytes_per_s and launch_s"
    )
    return Verdict((len(cells) - len(wrong)) / len(cells), sentence([f"{len(wrong)} of {len(cells)} off", detail]))


@register(
    "07.bound",
    points=1,
    question="What limits each stage on each machine: the launches, the memory traffic or the arithmetic?",
    shape="a dict: each of the stub's keys -> 'launches', 'memory' or 'compute'",
)
def _bound(answer, context):
    from ..capstone.sizing import bound, stages

    machines = _machines(context)
    keys = {f"{s.name} on {m.key}": (s, m) for s in stages() for m in machines.values()}
    given, problem = mapping_answer(answer, list(keys), what="stage on a machine")
    if problem:
        return problem
    assert given is not None
    said, right = [], 0
    for key, (stage, machine) in keys.items():
        chosen, bad = choice_answer(given[key], ("launches", "memory", "compute"), what=key)
        truth = bound(stage, machine)
        if bad is None and chosen == truth:
            right += 1
        else:
            said.append(f"{key}: {truth} takes longest (compare the three times the model adds for it)")
    if said:
        return Verdict(right / len(keys), sentence(said))
    return Verdict.ok("A small model at batch 1 keeps an A40 launching kernels; a vCPU is busy computing.")


# --- storage and network ---------------------------------------------------------------------


@register(
    "07.storage",
    points=3,
    question="For each artifact: block or object storage, its size after the first month, and its growth a month after that.",
    shape="a dict: artifact -> {'storage': 'block' | 'object', 'gb': float, 'growth_gb_per_month': float}",
)
def _storage(answer, context):
    from ..capstone.sizing import storage_need

    truth = storage_need()
    given, problem = mapping_answer(answer, list(truth), what="artifact")
    if problem:
        return problem
    assert given is not None
    score, said = 0.0, []
    for name, want in truth.items():
        row = given[name] if isinstance(given[name], dict) else {}
        if fold(row.get("storage")) == want["storage"]:
            score += 0.4
        else:
            said.append(f"{name}: {want['storage']} storage ({want['why']})")
        if _close(row.get("gb"), want["gb"], 0.05):
            score += 0.3
        else:
            said.append(f"{name}: {row.get('gb')!r} GB after a month; work it out from the scenario ({want['why']})")
        if _close(row.get("growth_gb_per_month"), want["growth_gb_per_month"], 0.05):
            score += 0.3
        else:
            said.append(
                f"{name}: growth {row.get('growth_gb_per_month')!r} GB a month; after the first month, {want['why']}"
            )
    if said:
        return Verdict(score / len(truth), sentence(said[:4]))
    return Verdict.ok(
        "Video and logs to object storage, the database and the weights on volumes, sized from the scenario."
    )


@register(
    "07.network",
    points=2,
    question="How many floating IPs, which public ports, which routes on the ingress, and what the internet reaches.",
    shape="a dict {'floating_ips': int, 'public_ports': [int], 'routes': {path: service}, 'public': [service]}",
)
def _network(answer, context):
    from ..capstone.rates import capstone
    from ..capstone.sizing import network_plan

    truth = network_plan()
    services = [str(s) for s in capstone()["network"]["services"]]
    if not isinstance(answer, dict) or not set(truth) <= set(answer):
        return Verdict.no(f"Answer with a dict of the four keys {', '.join(truth)}.")
    said, right = [], 0
    ips = as_number(answer["floating_ips"])
    if ips == truth["floating_ips"]:
        right += 1
    elif ips is not None and ips > truth["floating_ips"]:
        said.append(
            f"{ips:g} floating IPs: only the ingress needs a public address; each more is one more door to guard and "
            "one more of the allocation's few (4 on a GPU startup allocation)"
        )
    else:
        said.append("the users reach the service through one public address: the ingress controller's floating IP")
    try:
        ports = sorted({int(p) for p in answer["public_ports"]})
    except (TypeError, ValueError):
        ports = None
    if ports == truth["public_ports"]:
        right += 1
    else:
        extra = sorted(set(ports or []) - set(truth["public_ports"]))
        hint = {22: "port 22 (ssh) stays closed to the internet (open it to your institution's range only, if at all)",
                6443: "port 6443 (the Kubernetes API) is for operators, not the internet",
                5432: "port 5432: the database answers only inside the cluster",
                6379: "port 6379: the queue answers only inside the cluster"}  # fmt: skip
        said.append(
            "; ".join(hint.get(p, f"port {p} has no public service behind it") for p in extra)
            if extra
            else "HTTPS (443) for the service, and HTTP (80) only to redirect to it"
        )
    routes = answer["routes"] if isinstance(answer["routes"], dict) else {}
    if {str(k): fold(v) for k, v in routes.items()} == {k: fold(v) for k, v in truth["routes"].items()}:
        right += 1
    else:
        said.append("one host, two paths: /api to the api, / to the web page (the chart's ingress.prefix)")
    public = answer["public"] if isinstance(answer["public"], (list, tuple, set)) else []
    chosen = {fold(s) for s in public}
    unknown = sorted(chosen - {fold(s) for s in services})
    if chosen == {fold(s) for s in truth["public"]}:
        right += 1
    elif unknown:
        said.append(f"{unknown[0]!r} is not one of the services: {', '.join(services)}")
    else:
        exposed = sorted(chosen - {fold(s) for s in truth["public"]})
        said.append(
            f"{', '.join(exposed)} must not be reachable from the internet"
            if exposed
            else "the users reach the api and the web page"
        )
    if said:
        return Verdict(right / 4, sentence(said))
    return Verdict.ok("One floating IP, 80 and 443, two routes; the database, queue, model and nodes stay inside.")


# --- designs and their cost ------------------------------------------------------------------


@register(
    "07.designs",
    points=3,
    question="Write the two designs: everything on Jetstream2, and the service on Jetstream2 with the analysis on Delta.",
    shape="a dict: each of the two names -> {'control': {flavor: n}, 'workers': {flavor: n}, 'delta': None or a job}",
)
def _designs(answer, context):
    from ..capstone.designs import cheapest_workers, problems
    from ..resources.cost import su_per_hour

    machines = _machines(context)
    given, problem = mapping_answer(answer, list(DESIGNS), what="design")
    if problem:
        return problem
    assert given is not None
    score, said = 0.0, []
    for name in DESIGNS:
        design = given[name]
        wants_delta = name == DESIGNS[1]
        if isinstance(design, dict) and bool(design.get("delta")) != wants_delta:
            said.append(f"{name}: {'a Delta job runs the analysis' if wants_delta else 'no Delta job: delta is None'}")
            continue
        found = problems(design, machines)
        if found:
            said.append(f"{name}: " + "; ".join(found))
            continue
        best, best_su = cheapest_workers(design, machines)
        spent = sum(su_per_hour(str(f)) * int(n) for f, n in design["workers"].items())
        if spent > WASTE * best_su + 1e-9:
            score += 0.25
            group = ", ".join(f"{n} x {f}" for f, n in best.items())
            said.append(
                f"{name}: it carries the workload, but its workers burn {spent:g} SU/h where {group} ({best_su:g} SU/h) carry the same pods"
            )
        else:
            score += 0.5
    if said:
        return Verdict(score, sentence(said))
    return Verdict.ok("Both designs carry the workload, each without paying for much more than it needs.")


def _su_variants(design: dict) -> dict[str, dict]:
    from ..capstone.designs import su_per_month
    from ..capstone.rates import capstone
    from ..resources.cost import su_per_hour

    right = su_per_month(design)
    hours = float(capstone()["scenario"]["hours_per_month"])
    control = sum(su_per_hour(str(f)) * int(n) * hours for f, n in design["control"].items())
    out = {
        "the control plane left out: it is a VM, always on, and bills like the workers": {
            "js2": right["js2"] - control
        },
        "a month of 720 hours: clouds bill 730 (24 x 365 / 12)": {"js2": right["js2"] / hours * 720},
    }
    delta = design.get("delta")
    if delta:
        raw = float(delta["hours"]) * int(delta["gpus"]) * 0.5 * int(delta["jobs_per_month"])
        out["Delta's minimum: every job is charged at least 1 SU"] = {"delta": raw}
        out["the charge factor: gpuA40x4 charges 0.5 SU per GPU-hour"] = {"delta": raw * 2}
    return out


@register(
    "07.su-month",
    points=2,
    question="How many SUs a month does each design burn on Jetstream2 and on Delta?",
    shape="a dict: each design's name -> {'js2': float, 'delta': float}",
)
def _su_month(answer, context):
    from ..capstone.designs import su_per_month

    designs = context.get("designs")
    if not isinstance(designs, dict) or any(_shape_bad(designs.get(n)) for n in DESIGNS):
        return Verdict.no("Write both designs first (exercise 5): their SUs are judged on the designs you wrote.")
    given, problem = mapping_answer(answer, list(DESIGNS), what="design")
    if problem:
        return problem
    assert given is not None
    cells, said, right = 0, [], 0
    for name in DESIGNS:
        truth, row = su_per_month(designs[name]), given[name] if isinstance(given[name], dict) else {}
        for part in ("js2", "delta"):
            cells += 1
            if _close(row.get(part), truth[part], 0.01):
                right += 1
                continue
            why = next(
                (
                    w
                    for w, v in _su_variants(designs[name]).items()
                    if part in v and _close(row.get(part), v[part], 0.01)
                ),
                f"the design gives {truth[part]:,.1f}",
            )
            said.append(f"{name}, {part}: {row.get(part)!r}; {why}")
    if said:
        return Verdict(right / cells, sentence(said))
    return Verdict.ok("Priced with each system's own rules: JS2 by the hour of each VM, Delta by each job's GPU-hours.")


def _shape_bad(design: Any) -> bool:
    return not (
        isinstance(design, dict) and isinstance(design.get("control"), dict) and isinstance(design.get("workers"), dict)
    )


# --- the deployment --------------------------------------------------------------------------


def _api_part() -> dict:
    from ..capstone.rates import capstone

    return capstone()["service"]["parts"]["api"]


@register(
    "07.api-values",
    points=2,
    question="Write the api chart's values for the scaled-down deployment: the replicas and requests your design sized.",
    shape="a dict of the api chart's values",
    hidden="the grader sees your Application Synced and Healthy, the api answering through the ingress, and as many "
    "pods as your design has, each requesting what it sized",
)
def _api_values(answer, context):
    from .lab05 import quantity

    _, deployment, problem = rendered_chart("api", answer, RELEASE)
    if problem:
        return problem
    part, said, right = _api_part(), [], 0
    if deployment["spec"].get("replicas") == int(part["replicas"]):
        right += 1
    else:
        said.append(
            f"replicas {deployment['spec'].get('replicas')}: your design has {part['replicas']} api pods, one per node"
        )
    resources = deployment["spec"]["template"]["spec"]["containers"][0].get("resources") or {}
    req, lim = resources.get("requests") or {}, resources.get("limits") or {}
    try:
        cpu, mem = quantity(req.get("cpu", 0)), quantity(req.get("memory", 0)) / 1e9
    except ValueError as exc:
        return Verdict.no(f"{exc}: write quantities the Kubernetes way, e.g. '250m' and '256Mi'.")
    if math.isclose(cpu, float(part["cpu"]), rel_tol=0.01) and math.isclose(mem, float(part["memory_gb"]), rel_tol=0.1):
        right += 1
    else:
        said.append(
            f"requests {req.get('cpu')} and {req.get('memory')}: the design sized each api pod at {part['cpu']} vCPU "
            f"({int(float(part['cpu']) * 1000)}m) and {part['memory_gb']} GB (256Mi)"
        )
    try:
        over = [k for k in ("cpu", "memory") if k in lim and quantity(lim[k]) < quantity(req.get(k, 0))]
    except ValueError as exc:
        return Verdict.no(f"{exc}: write quantities the Kubernetes way, e.g. '500m' and '512Mi'.")
    if over:
        said.append(f"the {over[0]} limit is below its request: Kubernetes refuses such a pod")
    else:
        right += 1
    if said:
        return Verdict(right / 3, sentence(said))
    return Verdict.ok("The values ask the cluster for what the design sized, and the schema accepts them.")


@register(
    "07.design-note",
    points=4,
    question="Write the design note: what you would run, where, at what cost, and what you would watch.",
    manual=True,
    shape="a str: a short design note (150 to 400 words)",
    covers="the chosen design and why, compute (where the analysis runs and what limits it), storage (what goes to "
    "block and to object, and how it grows), network (what is public and what is not), SUs a month, and one risk "
    "with what you would measure first",
)
def _design_note(answer, context):  # read by a person; never called for manual checks
    return Verdict(0.0, "An instructor grades this answer.")


# --- what the grader reads from the learner's cluster ------------------------------------------


def _namespace() -> str:
    from ..marks import Marks

    return Marks.for_lab("07").name("app")


def probe_serving(conn: Any) -> dict:
    """The Application's sync and health, the api's answer through the ingress, and what its pods request."""
    from ..deploy import gitops

    out: dict[str, Any] = {"sync": None, "health": None, "healthz": None, "requests": [], "ready": 0, "replicas": None}
    try:
        app = gitops.application(RELEASE)
    except Exception:  # no Application: nothing to read
        return out
    status = app.get("status") or {}
    out["sync"] = (status.get("sync") or {}).get("status")
    out["health"] = (status.get("health") or {}).get("status")
    try:
        from kubernetes import client

        from .lab05 import cluster_api

        api = cluster_api()
        dep = client.AppsV1Api(api).read_namespaced_deployment(f"{RELEASE}-deployment", _namespace())
        out["replicas"] = dep.spec.replicas
        out["ready"] = dep.status.ready_replicas or 0
        pods = client.CoreV1Api(api).list_namespaced_pod(
            _namespace(), label_selector=f"app.kubernetes.io/instance={RELEASE}"
        )
        out["requests"] = [
            {k: str(v) for k, v in ((c.resources.requests if c.resources else None) or {}).items()}
            for p in pods.items
            for c in p.spec.containers
        ]
    except Exception:  # no cluster or no Deployment: the state says so by its empty fields
        pass
    try:
        import requests

        base = gitops.ingress_url(_namespace(), f"{RELEASE}-ingress")
        out["healthz"] = requests.get(f"{base}/api/healthz", timeout=5).json()
    except Exception:  # no ingress answering
        pass
    return out


def serving_as_sized(snapshot: dict) -> bool:
    """The state check's verdict: Synced and Healthy, the api answering, and as many Ready pods as the design has
    api pods, each requesting what the design sized (whatever the values said)."""
    from .lab05 import quantity

    part = _api_part()
    if (snapshot.get("sync"), snapshot.get("health")) != ("Synced", "Healthy"):
        return False
    if (snapshot.get("healthz") or {}).get("ok") is not True:
        return False
    if not snapshot.get("replicas") == snapshot.get("ready") == int(part["replicas"]):
        return False
    pods = snapshot.get("requests") or []
    try:
        return bool(pods) and all(
            math.isclose(quantity(r.get("cpu")), float(part["cpu"]), rel_tol=0.01)
            and math.isclose(quantity(r.get("memory")) / 1e9, float(part["memory_gb"]), rel_tol=0.1)
            for r in pods
        )
    except ValueError:
        return False


def probe_leftovers(conn: Any) -> dict:
    """What of lab 07 is left: its Applications, its namespace, and every marked cloud resource."""
    from .leftovers import gitops_leftovers

    return gitops_leftovers(conn, "07")
