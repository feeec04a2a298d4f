"""A pod's volumes as folders of the pod's own: ``emptyDir``, ``configMap``, ``secret``,
``downwardAPI`` and ``projected`` (the service-account volume the API adds to pods among them).

ConfigMap, Secret and downward-API folders are written as the kubelet's atomic writer writes them:
the files live in a timestamped folder, ``..data`` points at it, and each key is a link through
``..data``, so an update (the ConfigMap changed) swaps every file at once and a program reading
the folder never sees half of it. Where containers get their own root (see ``shim.py``), each
folder is bind-mounted at its ``mountPath`` (``subPath`` too); otherwise the kubelet passes
containers the mapping from mount paths to folders (``LAB_PATH_MAP``) and rewrites the paths in
their command line, which is said in the pod's ``sandbox.visualizing-compute/simulated``
annotation.

A ``persistentVolumeClaim`` volume is the folder kept with the claim's Cinder volume
(``cloud_volumes.data_dir``): the kubelet mounts it once the attach-detach controller has attached
the volume to this node's VM, so what a pod writes there outlives the pod and follows the volume to
another node. Simulated: a real node formats and mounts the block device; the folder stands for
that file system (the PersistentVolume's ``sandbox.visualizing-compute/simulated`` annotation says so).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from ..objects import Objects
from .environment import CONFIGMAPS, SECRETS, ConfigError, field_value, resource_value

SUPPORTED = ("emptyDir", "configMap", "secret", "downwardAPI", "projected", "persistentVolumeClaim")
SERVICE_ACCOUNT_TOKEN = "sandbox: this cluster issues no service-account tokens to pods\n"


class MountError(Exception):
    """A volume that cannot be set up yet (its ConfigMap is missing): the pod waits, with a FailedMount event."""


def _files_of_source(
    objects: Objects, pod: dict[str, Any], kind: str, source: dict[str, Any], ca: bytes, allocatable: dict[str, Any]
) -> dict[str, tuple[bytes, int | None]] | None:
    """{relative path: (content, mode or None)} of one configMap/secret/downwardAPI/token source;
    None when an optional source is missing."""
    namespace = pod["metadata"].get("namespace", "default")
    out: dict[str, tuple[bytes, int | None]] = {}
    if kind in ("configMap", "secret"):
        name = source.get("name") or source.get("secretName") or ""
        obj = objects.get(CONFIGMAPS if kind == "configMap" else SECRETS, namespace, name)
        if obj is None:
            if source.get("optional"):
                return None
            raise MountError(f'{kind.lower()} "{name}" not found')
        data: dict[str, bytes] = {}
        if kind == "configMap":
            data.update({k: str(v).encode() for k, v in (obj.get("data") or {}).items()})
            data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
        else:
            data.update({k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()})
            data.update({k: str(v).encode() for k, v in (obj.get("stringData") or {}).items()})
        items = source.get("items")
        if items:
            for item in items:
                if item.get("key") not in data:
                    if source.get("optional"):
                        continue
                    label = "configmap" if kind == "configMap" else "secret"
                    raise MountError(f'{label} "{name}" has no key "{item.get("key")}"')
                out[item.get("path") or item["key"]] = (data[item["key"]], item.get("mode"))
        else:
            out.update({k: (v, None) for k, v in data.items()})
    elif kind == "downwardAPI":
        for item in source.get("items") or []:
            try:
                if "fieldRef" in item:
                    value = field_value(pod, item["fieldRef"].get("fieldPath", ""))
                elif "resourceFieldRef" in item:
                    value = resource_value(pod, item["resourceFieldRef"], allocatable)
                else:
                    continue
            except ConfigError as exc:
                raise MountError(str(exc)) from None
            out[item["path"]] = (value.encode(), item.get("mode"))
    elif kind == "serviceAccountToken":
        out[source.get("path") or "token"] = (SERVICE_ACCOUNT_TOKEN.encode(), None)
    return out


def files_of(
    objects: Objects, pod: dict[str, Any], volume: dict[str, Any], ca: bytes, allocatable: dict[str, Any]
) -> tuple[dict[str, tuple[bytes, int | None]], int]:
    """The files of a configMap/secret/downwardAPI/projected volume and its default mode."""
    for kind in ("configMap", "secret", "downwardAPI"):
        if kind in volume:
            src = volume[kind]
            return _files_of_source(objects, pod, kind, src, ca, allocatable) or {}, int(src.get("defaultMode", 0o644))
    projected = volume.get("projected") or {}
    out: dict[str, tuple[bytes, int | None]] = {}
    for source in projected.get("sources") or []:
        for kind in ("configMap", "secret", "downwardAPI", "serviceAccountToken"):
            if kind in source:
                if kind == "configMap" and source[kind].get("name") == "kube-root-ca.crt" and ca:
                    out["ca.crt"] = (ca, None)
                    continue
                out.update(_files_of_source(objects, pod, kind, source[kind], ca, allocatable) or {})
    return out, int(projected.get("defaultMode", 0o644))


def write_atomic(folder: Path, files: dict[str, tuple[bytes, int | None]], default_mode: int) -> bool:
    """Write ``files`` into ``folder`` as the kubelet's atomic writer does; False when nothing changed."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    data = folder / "..data"
    if data.is_symlink():
        current = folder / os.readlink(data)
        old = {
            str(p.relative_to(current)): p.read_bytes()
            for p in current.rglob("*")
            if p.is_file() and not p.is_symlink()
        }
        modes = {str(p.relative_to(current)): p.stat().st_mode & 0o7777 for p in current.rglob("*") if p.is_file()}
        want_modes = {k: (m if m is not None else default_mode) for k, (_, m) in files.items()}
        if old == {k: c for k, (c, _) in files.items()} and modes == want_modes:
            return False
    stamp = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime()) + f"{time.time_ns() % 10**9:09d}"
    target = folder / stamp
    target.mkdir()
    os.chmod(target, 0o755)
    for rel, (content, mode) in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.chmod(path, mode if mode is not None else default_mode)
    for root, dirs, _ in os.walk(target):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    tmp_link = folder / "..data_tmp"
    if tmp_link.is_symlink():
        tmp_link.unlink()
    os.symlink(stamp, tmp_link)
    previous = os.readlink(data) if data.is_symlink() else None
    os.replace(tmp_link, data)
    tops = {rel.split("/", 1)[0] for rel in files}
    for entry in os.listdir(folder):
        if entry.startswith(".."):
            continue
        path = folder / entry
        if entry not in tops and path.is_symlink():
            path.unlink()
    for top in tops:
        link = folder / top
        if not link.is_symlink():
            os.symlink(f"..data/{top}", link)
    if previous and previous != stamp:
        shutil.rmtree(folder / previous, ignore_errors=True)
    return True


def prepare(
    objects: Objects, pod: dict[str, Any], pod_dir: Path, ca: bytes, allocatable: dict[str, Any], uid: int | None
) -> dict[str, Path]:
    """Make (or refresh) every volume of ``pod``: {volume name: its folder}. :class:`MountError` names
    the first volume that cannot be set up, worded as the kubelet's FailedMount event."""
    out: dict[str, Path] = {}
    for volume in pod.get("spec", {}).get("volumes") or []:
        name = volume.get("name", "")
        folder = pod_dir / "volumes" / name
        kind = next((k for k in SUPPORTED if k in volume), None)
        if kind is None:
            other = next((k for k in volume if k != "name"), "unknown")
            raise MountError(
                f'MountVolume.SetUp failed for volume "{name}" : the sandbox cluster does not provide {other} volumes '
                f"(it has {', '.join(SUPPORTED)})"
            )
        if kind == "persistentVolumeClaim":
            out[name] = claim_folder(objects, pod, name, volume[kind] or {})
            continue
        if kind == "emptyDir":
            if not folder.exists():
                folder.mkdir(parents=True)
                os.chmod(folder, 0o777)
        else:
            try:
                files, mode = files_of(objects, pod, volume, ca, allocatable)
            except MountError as exc:
                raise MountError(f'MountVolume.SetUp failed for volume "{name}" : {exc}') from None
            write_atomic(folder, files, mode)
        out[name] = folder
    return out


def mounts(container: dict[str, Any], folders: dict[str, Path], read_only: set[str]) -> list[dict[str, Any]]:
    """The container's bind mounts: ``[{"source": folder[/subPath], "target": mountPath, "readOnly": bool}]``;
    the volumes named in ``read_only`` (ConfigMaps, Secrets) are read-only whatever the mount says."""
    out = []
    for m in container.get("volumeMounts") or []:
        folder = folders.get(m.get("name", ""))
        if folder is None:
            continue
        source = folder
        if m.get("subPath"):
            source = folder / m["subPath"]
            if not source.exists() and not source.is_symlink():
                source.mkdir(parents=True, exist_ok=True)
                os.chmod(source, 0o777)
            source = Path(os.path.realpath(source))
        ro = bool(m.get("readOnly")) or m.get("name", "") in read_only
        out.append({"source": str(source), "target": m.get("mountPath", ""), "readOnly": ro})
    return out


def map_paths(text: str, mapping: list[tuple[str, str]]) -> str:
    """``text`` with each container path of ``mapping`` (longest first) replaced by its host path,
    where it stands as a path (``cat /etc/config/k`` becomes ``cat <volume folder>/k``)."""
    for inside, outside in sorted(mapping, key=lambda m: -len(m[0])):
        if inside == "/":
            continue
        pattern = re.compile(r"(?<![\w./-])" + re.escape(inside.rstrip("/")) + r"(?=/|$|[\s'\";:)])")
        text = pattern.sub(outside.replace("\\", "\\\\"), text)
    return text


def claim_folder(
    objects: Objects, pod: dict[str, Any], volume: str, source: dict[str, Any], wait_s: float = 1.0
) -> Path:
    """The folder of a claim's volume, once the claim is bound and its volume attached to the pod's
    node; :class:`MountError` (the kubelet's FailedMount words) until then. Waits ``wait_s`` for an
    attachment in progress, so a pod whose volume attaches at once starts without a warning."""
    from ..cloud_volumes import data_dir
    from ..controllers.volumes import ATTACHMENTS, PVCS, PVS, attachment_name

    namespace = pod["metadata"].get("namespace", "default")
    claim_name = str(source.get("claimName", ""))
    node = str(pod.get("spec", {}).get("nodeName", ""))
    waiting = f"Unable to attach or mount volumes: unmounted volumes=[{volume}], unattached volumes=[{volume}]: "
    deadline = time.monotonic() + wait_s
    while True:
        claim = objects.get(PVCS, namespace, claim_name)
        if claim is None:
            raise MountError(
                waiting
                + f'error processing PVC {namespace}/{claim_name}: persistentvolumeclaim "{claim_name}" not found'
            )
        pv_name = (claim.get("spec") or {}).get("volumeName") or ""
        pv = objects.get(PVS, "", pv_name) if pv_name else None
        if pv is None or (claim.get("status") or {}).get("phase") != "Bound":
            raise MountError(waiting + f"error processing PVC {namespace}/{claim_name}: PVC is not bound")
        handle = str(((pv.get("spec") or {}).get("csi") or {}).get("volumeHandle") or "")
        if not handle:
            raise MountError(
                f'MountVolume.SetUp failed for volume "{pv_name}" : the sandbox cluster mounts only '
                "cinder.csi.openstack.org volumes"
            )
        va = objects.get(ATTACHMENTS, "", attachment_name(handle, node))
        if va is not None and (va.get("status") or {}).get("attached"):
            break
        if time.monotonic() >= deadline:
            raise MountError(waiting + "timed out waiting for the condition")
        time.sleep(0.05)
    folder = data_dir(objects.store.root, handle)
    if not folder.exists():
        folder.mkdir(parents=True)
        os.chmod(folder, 0o777)
    return folder
