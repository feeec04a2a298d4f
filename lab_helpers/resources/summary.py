"""`lab list`'s reminder: every marked resource still on a cloud, and the SUs it burns."""

from __future__ import annotations


def running_summary() -> list[str]:
    """Lines for each backend that can be asked without starting anything."""
    from ..config import learner_id
    from ..live import has_cloud_credentials
    from .inventory import find

    lines: list[str] = []
    targets = []
    try:
        from ..sandbox.service import status

        if status().running:  # never start the sandbox just to list
            targets.append("sandbox")
    except ImportError:
        pass
    from ..cloud import config_file_is_sandbox

    if has_cloud_credentials() and not config_file_is_sandbox():  # `lab sandbox env` is not a live cloud
        targets.append("live")
    for backend in targets:
        try:
            from ..cloud import connect_cloud

            items = find(connect_cloud(backend), learner=learner_id())
        except Exception as exc:  # listing must never fail because a cloud is unreachable
            lines.append(f"({backend}: could not list your resources: {type(exc).__name__})")
            continue
        if not items:
            continue
        burn = sum(i.su_per_hour for i in items)
        lines.append(f"\nStill on the {backend} cloud: {len(items)} resources of yours, {burn:g} SU/hour"
                     f" (remove them with `lab cleanup --backend {backend}`):")
        lines += [f"  {item.line()}" for item in items]
    return lines
