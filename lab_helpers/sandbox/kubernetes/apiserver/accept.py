"""What representation the client asked for in ``Accept``: the object itself (JSON; a client asking
for protobuf gets JSON, which every client reads), a ``meta.k8s.io`` Table (``kubectl get``), or
PartialObjectMetadata (metadata-only informers). The first acceptable media range wins, as in the
API server."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.wrappers import Request

from .. import status

INCLUDE = ("None", "Metadata", "Object")


@dataclass(frozen=True)
class View:
    table: bool = False
    partial: bool = False
    version: str = "v1"  # of meta.k8s.io, for a Table or PartialObjectMetadata
    include: str = "Metadata"  # what each Table row carries


def view(request: Request) -> View:
    include = request.args.get("includeObject") or "Metadata"
    if include not in INCLUDE:
        raise status.bad_request(
            f'includeObject: Unsupported value: "{include}": supported values: "None", "Metadata", "Object"'
        )
    for media in request.headers.get("Accept", "").split(","):
        kind, *raw = [p.strip() for p in media.split(";")]
        params = dict(p.split("=", 1) for p in raw if "=" in p)
        if kind not in (
            "application/json",
            "application/*",
            "*/*",
            "application/yaml",
            "application/vnd.kubernetes.protobuf",
            "",
        ):
            continue
        shape = params.get("as")
        if shape is None:
            return View(include=include)
        if params.get("g") != "meta.k8s.io" or params.get("v") not in ("v1", "v1beta1"):
            continue
        if shape == "Table":
            return View(table=True, version=params["v"], include=include)
        if shape in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            return View(partial=True, version=params["v"], include=include)
    return View(include=include)
