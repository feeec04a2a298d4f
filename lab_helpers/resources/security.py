"""Security group rules read back from the cloud, as plain data a check can judge."""

from __future__ import annotations

__all__ = ["has_rule", "ingress_rules"]

RULE_KEYS = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_ip_prefix")


def _as_dict(rule) -> dict:
    raw = dict(rule) if not isinstance(rule, dict) else rule
    out = {k: raw.get(k) for k in RULE_KEYS}
    out["ethertype"] = raw.get("ethertype") or raw.get("ether_type")
    return out


def ingress_rules(conn, group) -> list[dict]:
    """The group's ingress rules as the cloud holds them now (JSON-ready dicts)."""
    group_id = getattr(group, "id", group)
    rules = [_as_dict(r) for r in conn.network.security_group_rules(security_group_id=group_id)]
    return sorted(
        (r for r in rules if r["direction"] == "ingress"),
        key=lambda r: (str(r["protocol"]), r["port_range_min"] or 0, str(r["remote_ip_prefix"])),
    )


def has_rule(conn, group, rule: dict) -> bool:
    """Whether the group already holds ``rule`` (so a re-run cell does not hit Neutron's 409)."""
    want = {k: rule.get(k) for k in RULE_KEYS if k in rule}
    want.setdefault("ethertype", "IPv4")
    for have in ingress_rules(conn, group) if want.get("direction", "ingress") == "ingress" else []:
        if all(str(have.get(k)) == str(v) for k, v in want.items()):
            return True
    return False
