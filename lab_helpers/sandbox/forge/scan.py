"""The forge's secret scanner, shared by the server's ``pre-receive`` hook and the client's ``pre-push`` hook.

detect-secrets with its provider-pattern plugins (cloud keys, private keys, service tokens), as GitHub's
push protection looks for known credential formats rather than anything random-looking. Configuration
files (YAML, JSON, INI, .env), where a password or an application credential secret written in plain
text is the mistake the project's own deploy files once made, also get its high-entropy detectors and
its keyword detector, the latter kept only where the value looks random (long, high Shannon entropy, not
a template): ``secretName: db-credentials`` in a chart names a Secret and is no secret. The keyword
detector reads ``key: value`` lines, so a YAML or JSON file's ``name``/``value`` pairs (a container's
environment, ``- name: DB_PASSWORD`` then ``value: ...``) are read here too, the name as the keyword: the
entropy detector alone misses about one random 43-character secret in 200. A pushed file is hostile input:
a YAML file whose aliases loop or expand past ``MAX_EXPANDED_NODES`` is read line by line, since
detect-secrets' YAML reader would follow them forever. A ``Finding`` names the file, the line and the kind
of secret, never the secret itself.
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["PATTERN_PLUGINS", "Finding", "scan_text", "scan_tree"]

# Plugins that match a known credential format: almost never a false alarm on ordinary code.
PATTERN_PLUGINS = (
    "AWSKeyDetector",
    "ArtifactoryDetector",
    "AzureStorageKeyDetector",
    "DiscordBotTokenDetector",
    "GitHubTokenDetector",
    "GitLabTokenDetector",
    "JwtTokenDetector",
    "MailchimpDetector",
    "NpmDetector",
    "OpenAIDetector",
    "PrivateKeyDetector",
    "PypiTokenDetector",
    "SendGridDetector",
    "SlackDetector",
    "SquareOAuthDetector",
    "StripeDetector",
    "TelegramBotTokenDetector",
    "TwilioKeyDetector",
)
# Configuration files also get these: random-looking strings, and keywords (``password: ...``) with such a value.
CONFIG_PLUGINS: tuple[dict[str, Any], ...] = (
    {"name": "Base64HighEntropyString", "limit": 4.5},
    {"name": "KeywordDetector"},
)
KEYWORD_MIN_LENGTH, KEYWORD_MIN_ENTROPY = 16, 3.5  # `secretName: app-cloud` is a name; a password is not
CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".ini", ".cfg", ".conf", ".env", ".toml")
MAX_SCANNED_BYTES = 1024 * 1024  # larger files are data, not configuration: not scanned
YAML_SUFFIXES = (".yaml", ".yml")
MAX_EXPANDED_NODES = 200_000  # a YAML file whose aliases expand past this is read line by line


@dataclass(frozen=True, order=True)
class Finding:
    """One secret found: where (``path``, 1-based ``line``) and what kind (``type``, as detect-secrets names it)."""

    path: str
    line: int
    type: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.type}"


def _plugins_for(path: str) -> list[dict]:
    name = path.rsplit("/", 1)[-1].lower()
    plugins: list[dict[str, Any]] = [{"name": p} for p in PATTERN_PLUGINS]
    if name.endswith(CONFIG_SUFFIXES) or name.startswith(".env") or name == "clouds.yaml":
        plugins += [dict(p) for p in CONFIG_PLUGINS]
    return plugins


def _looks_random(value: str | None) -> bool:
    """Whether a keyword's value looks like a credential rather than a name, a reference or prose (no space)."""
    if (
        not value
        or "{{" in value
        or "${" in value
        or len(value) < KEYWORD_MIN_LENGTH
        or any(c.isspace() for c in value)
    ):
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())  # bits per character
    return entropy >= KEYWORD_MIN_ENTROPY


def _transformed(path: str, text: str, roots: list[Any]) -> list[str]:
    """The file's lines as detect-secrets reads them: a YAML or INI file's values quoted, one per original line,
    so its string detectors see them (a plain ``value: <token>`` line is no quoted string to them). ``roots``
    are the file's YAML documents, as ``_documents`` read them."""
    from detect_secrets.transformers import get_transformed_file

    if _suffix(path) in YAML_SUFFIXES and _expanded_size(roots) is None:
        return text.splitlines()  # its YAML reader follows every alias: `a: &a [*a]` would hold it forever
    handle = io.StringIO(text)
    handle.name = path  # the transformers pick themselves by the file's name
    try:
        lines = get_transformed_file(handle)  # type: ignore[arg-type]
    except Exception:  # a file the transformer cannot parse (a Helm template is not YAML): read it as it is
        lines = None
    return [line.rstrip("\n") for line in lines] if lines else text.splitlines()


def _suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    return "." + name.rsplit(".", 1)[-1] if "." in name else ""


def _documents(path: str, text: str) -> list[Any]:
    """The documents of a YAML or JSON file as nodes, an alias sharing its anchor's node (so reading them is
    linear whatever the aliases do); none for another file or one that does not parse (a Helm template)."""
    import yaml

    suffix = _suffix(path)
    if suffix == ".json":
        text = text.replace("\t", " ")  # JSON may indent with tabs, YAML may not; in JSON a raw tab is only space
    elif suffix not in YAML_SUFFIXES:
        return []
    try:
        return [node for node in yaml.compose_all(text, Loader=yaml.SafeLoader) if node is not None]
    except (yaml.YAMLError, RecursionError):
        return []


def _expanded_size(roots: list[Any], limit: int = MAX_EXPANDED_NODES) -> int | None:
    """How many nodes a reader that follows aliases visits, or None if more than ``limit`` (an anchor bomb) or
    endless (an alias inside its own anchor). Each distinct node is counted once, so this is linear."""
    import yaml

    size: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False) for root in roots]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        kids = [] if isinstance(node, yaml.ScalarNode) else _children(node)
        if children_done:
            open_.discard(key)
            size[key] = min(limit + 1, 1 + sum(size[id(kid)] for kid in kids))
            continue
        if key in size:
            continue
        if key in open_:
            return None  # reached again while its own children are being counted: it contains itself
        open_.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in kids if id(kid) not in size)
    total = sum(size[id(root)] for root in roots)
    return None if total > limit else total


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _name_value_pairs(roots: list[Any]) -> Iterator[tuple[int, str, str]]:
    """(the value's 1-based line, name, value) for each mapping of the documents with a scalar ``name`` and
    ``value``."""
    import yaml

    seen: set[int] = set()  # an alias shares its node: each is walked once, so no anchor bomb multiplies work
    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            scalars = {
                k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)
            }
            name, value = scalars.get("name"), scalars.get("value")
            if name is not None and value is not None:
                yield value.start_mark.line + 1, str(name.value), str(value.value)
        stack.extend(_children(node))


def _secret_names() -> re.Pattern[str]:
    """detect-secrets' keywords, and "token", the word a forge's or a CI's credential goes by in an environment
    (``GITHUB_TOKEN``). Not "credential": an application credential's ID names it and is no secret."""
    from detect_secrets.plugins.keyword import DENYLIST

    return re.compile("|".join((*DENYLIST, "token")), re.IGNORECASE)


def _named_secrets(path: str, roots: list[Any]) -> list[Finding]:
    """A ``name``/``value`` pair whose name says secret (detect-secrets' keywords) and whose value looks random."""
    names = _secret_names()
    return [
        Finding(path, line, "Secret Keyword")
        for line, name, value in _name_value_pairs(roots)
        if names.search(name) and _looks_random(value)
    ]


def scan_text(path: str, text: str) -> list[Finding]:
    """The secrets in one file's text (``path`` as in the repository: its suffix picks the detectors)."""
    from detect_secrets.core.scan import _process_line_based_plugins
    from detect_secrets.settings import transient_settings

    if len(text) > MAX_SCANNED_BYTES or "\x00" in text:
        return []
    config = {"plugins_used": _plugins_for(path)}
    roots = _documents(path, text)  # read once: the transformer's guard and the name/value pairs share it
    lines = list(enumerate(_transformed(path, text, roots), start=1))
    found: set[Finding] = set()
    with transient_settings(config):
        for secret in _process_line_based_plugins(lines, filename=path):
            if secret.type == "Secret Keyword" and not _looks_random(secret.secret_value):
                continue
            found.add(Finding(path, int(secret.line_number), str(secret.type)))
    found.update(_named_secrets(path, roots))
    return sorted(found)


def scan_tree(files: dict[str, str]) -> list[Finding]:
    """The secrets in several files (path -> text), in path and line order."""
    return sorted(f for path, text in files.items() for f in scan_text(path, text))
