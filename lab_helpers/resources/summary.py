"""`lab list`'s reminder: every marked resource still on a cloud, and the SUs it burns."""

from __future__ import annotations

from ..backends import Backend, Live, Sandbox


def _askable() -> list[Backend]:
    """The backends whose cloud can be asked without starting anything."""
    from ..backends.live import config_file_is_sandbox, has_cloud_credentials
    from ..sandbox import status

    targets: list[Backend] = []
    if status().running:  # never start the sandbox just to list
        targets.append(Sandbox())
    if has_cloud_credentials() and not config_file_is_sandbox():  # `lab sandbox env` is not a live cloud
        targets.append(Live())
    return targets


def running_summary() -> list[str]:
    """Lines for each backend that can be asked without starting anything."""
    from ..config import learner_id
    from .inventory import find

    lines: list[str] = []
    for backend in _askable():
        try:
            items = find(backend.connect(), learner=learner_id())
        except Exception as exc:  # listing must never fail because a cloud is unreachable
            lines.append(f"({backend}: could not list your resources: {type(exc).__name__})")
            continue
        if not items:
            continue
        burn = sum(i.su_per_hour for i in items)
        lines.append(
            f"\nStill on the {backend} cloud: {len(items)} resources of yours, {burn:g} SU/hour"
            f" (remove them with `lab cleanup --backend {backend}`):"
        )
        lines += [f"  {item.line()}" for item in items]
    return lines
