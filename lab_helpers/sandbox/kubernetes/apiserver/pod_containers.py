"""Which container of a pod a request means (``pods/log``, ``exec``, ``attach``), as the API server picks it."""

from __future__ import annotations

from typing import Any

from .. import status

Obj = dict[str, Any]


def container_of(pod: Obj, asked: str) -> str:
    """The container named ``asked``, else the default one (annotation, or the only one); a 400 otherwise."""
    spec = pod.get("spec", {})
    names = [c.get("name", "") for c in spec.get("containers") or []]
    inits = [c.get("name", "") for c in spec.get("initContainers") or []]
    name = pod["metadata"]["name"]
    if asked:
        if asked not in names + inits:
            raise status.bad_request(f"container {asked} is not valid for pod {name}")
        return asked
    default = (pod["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
    if default in names:
        return str(default)
    if len(names) == 1:
        return names[0]
    listed = " ".join(names)
    extra = f" or one of the init containers: [{' '.join(inits)}]" if inits else ""
    raise status.bad_request(f"a container name must be specified for pod {name}, choose one of: [{listed}]{extra}")
