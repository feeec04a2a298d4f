"""Lab 03 "A VM is a slice of a host": checks. Flavors and SU rates come from data/jetstream2.yaml;
the security group check judges the rules the notebook read back from the cloud."""

from __future__ import annotations

from typing import Any

from .answers import fold, number_answer, within
from .registry import Verdict, register

__all__ = ["judge_open_ssh", "probe_leftovers", "probe_servers", "probe_ssh_rules"]


@register(
    "03.cheapest-flavor",
    points=2,
    question="The cheapest Jetstream2 flavor for the stated vCPUs and RAM.",
    shape="a flavor's name (str), as the flavor table spells it",
)
def _cheapest_flavor(answer, context):
    from ..resources.cost import cheapest_flavor, flavors, su_per_hour

    if not isinstance(answer, str):
        return Verdict.no(
            f"Answer with the flavor's name as text (in quotes, as the table spells it), not a {type(answer).__name__}."
        )
    need_cpu, need_ram = float(context["vcpus"]), float(context["ram_gb"])
    expected = cheapest_flavor(need_cpu, need_ram)
    known = flavors()
    name = next((k for k in known if fold(k) == fold(answer)), None)
    if name is None:
        return Verdict.no(
            f"{answer.strip()!r} is not a Jetstream2 flavor; names look like 'm3.small' (the table above lists them)."
        )
    f = known[name]
    if f["vcpus"] < need_cpu or f["ram_gb"] < need_ram:
        return Verdict.no(
            f"{name} has {f['vcpus']} vCPUs and {f['ram_gb']} GB RAM: too small for {need_cpu:g} vCPUs and {need_ram:g} GB."
        )
    if name == expected:
        return Verdict.ok(
            f"{name}: {f['vcpus']} vCPUs, {f['ram_gb']} GB for {su_per_hour(name):g} SU/hour, the least that fits."
        )
    return Verdict.no(
        f"{name} fits, but costs {su_per_hour(name):g} SU/hour; a cheaper flavor also fits. "
        "Compare each flavor's vCPUs and RAM with the need, then its SU/hour."
    )


@register(
    "03.month-su",
    points=2,
    question="SUs the stated servers burn in the stated number of days, ACTIVE all the time.",
    hidden="the SUs match the rate table to the SU, not just within 1%",
    shape="a number of SUs (int or float)",
)
def _month_su(answer, context):
    from ..resources.cost import su_for, su_per_hour

    value, refused = number_answer(answer, unit="SU")
    if refused is not None:
        return refused
    flavor, count, days = str(context["flavor"]), int(context["count"]), float(context["days"])
    expected = su_for(flavor, count=count, hours=24 * days)
    if abs(value - expected / count) < 1e-6 * expected:
        return Verdict.no(f"That is one server; the service runs {count}.")
    if abs(value - su_per_hour(flavor) * count * days) < 1e-6 * expected:
        return Verdict.no("That counts days, not hours: SU rates are per hour.")
    return within(answer, expected, rel=0.01, unit="SU")


def _opens(rule: dict) -> tuple[int, int] | None:
    """The TCP port range a rule opens (all ports when the protocol or range is missing)."""
    proto = str(rule.get("protocol") or "any").lower()
    if proto in ("icmp", "ipv6-icmp", "1", "58"):
        return None
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if proto not in ("tcp", "6") or low is None:
        return (1, 65535)
    return (int(low), int(high if high is not None else low))


@register(
    "03.open-ssh",
    points=3,
    question="Open exactly the port ssh needs in your lab's security group (judged on the rules the cloud holds).",
    shape="a dict with the stub's keys (a security group rule); the check reads the rules the cloud holds",
    hidden="the grader reads your group's rules from the cloud itself: tcp 22 open and nothing else",
)
def judge_open_ssh(answer, context):
    port = int(context.get("port", 22))
    if not isinstance(answer, list):
        return Verdict.no("Pass the rules read back from the cloud: ingress_rules(conn, group).")
    ingress = [r for r in answer if isinstance(r, dict) and r.get("direction", "ingress") == "ingress"]
    if not ingress:
        return Verdict.no(
            f"The group has no ingress rule: nothing can reach port {port}. Add one with create_security_group_rule."
        )
    wide = [r for r in ingress if _opens(r) is not None and _opens(r) != (port, port)]
    if any(_opens(r) == (1, 65535) for r in wide):
        return Verdict.no(
            "A rule opens every port (no protocol or no port range): anything listening is exposed. "
            f"Allow tcp {port} only."
        )
    if wide:
        ranges = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in sorted({_opens(r) for r in wide}))
        return Verdict.no(f"Besides {port}, the group opens {ranges}: open only the port the service needs.")
    ssh = [r for r in ingress if _opens(r) == (port, port)]
    if not ssh:
        return Verdict.no(f"No rule opens tcp {port}.")
    prefixes = sorted({str(r.get("remote_ip_prefix") or "0.0.0.0/0") for r in ssh})
    if any(p.endswith("/0") for p in prefixes):
        return Verdict.ok(
            f"tcp {port} only, from anywhere ({', '.join(prefixes)}). A narrower CIDR (your campus "
            "network) would keep out most of the internet's ssh scanners."
        )
    return Verdict.ok(f"tcp {port} only, from {', '.join(prefixes)}: the narrowest useful rule.")


@register(
    "03.su-stopped",
    points=1,
    question="SU per hour the cleanup stops: the lab's server, ACTIVE, at its flavor's rate.",
    hidden="the grader sees your server ACTIVE before the cleanup, and nothing of the lab left after it",
    shape="a number (int or float): SU per hour",
)
def _su_stopped(answer, context):
    from ..resources.cost import su_per_hour

    value, refused = number_answer(answer, unit="SU/hour")
    if refused is not None:
        return refused
    flavor = str(context.get("flavor", "m3.tiny"))
    if abs(value - su_per_hour(flavor) * 24) < 1e-6:
        return Verdict.no("That is a day's worth; the question asks for SU per hour.")
    return within(answer, su_per_hour(flavor), rel=0.01, unit="SU/hour")


# -- what the grader reads from the submission's own cloud (state checks' probes) -----------------
# Probes are not secret (the judges of their snapshots are): they live here so that a grading pod,
# which never sees the key, can run them by name.


def probe_ssh_rules(conn: Any) -> dict:
    """The ingress rules of this learner's lab-03 ssh group, as the cloud holds them now."""
    from ..marks import Marks
    from ..resources.security import ingress_rules

    wanted = Marks.for_lab("03").name("ssh")
    groups = [g for g in conn.network.security_groups() if g.name == wanted]
    return {"groups": len(groups), "rules": [r for g in groups for r in ingress_rules(conn, g)]}


def probe_servers(conn: Any) -> list[dict]:
    """This learner's lab-03 servers and their status, as Nova reports them now."""
    from ..marks import Marks

    prefix = Marks.for_lab("03").name_prefix()
    return [
        {"name": s.name, "status": s.status} for s in conn.compute.servers(details=True) if s.name.startswith(prefix)
    ]


def probe_leftovers(conn: Any) -> dict:
    """What still carries this learner's lab-03 marks (or names), right after the cleanup cell."""
    from ..marks import Marks
    from ..resources.inventory import find

    found = find(conn, learner=Marks.for_lab("03").learner, lab="03")
    return {"left": [f"{f.kind} {f.name or f.id}" for f in found], "not_checked": list(found.skipped)}
