"""The forge's secret scanner, shared by the server's ``pre-receive`` hook and the client's ``pre-push`` hook.

detect-secrets with its provider-pattern plugins (cloud keys, private keys, service tokens), as GitHub's
push protection looks for known credential formats rather than anything random-looking; plus its keyword
detector in configuration files (YAML, JSON, INI, .env), where a password or an application credential
secret written in plain text is the mistake the project's own deploy files once made. A ``Finding`` names
the file, the line and the kind of secret, never the secret itself.
"""

from __future__ import annotations

from dataclasses import dataclass

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
# Configuration files also get the keyword detector (``password: ...``, ``application_credential_secret: ...``).
CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".ini", ".cfg", ".conf", ".env", ".toml")
MAX_SCANNED_BYTES = 1024 * 1024  # larger files are data, not configuration: not scanned


@dataclass(frozen=True, order=True)
class Finding:
    """One secret found: where (``path``, 1-based ``line``) and what kind (``type``, as detect-secrets names it)."""

    path: str
    line: int
    type: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.type}"


def _plugins_for(path: str) -> tuple[str, ...]:
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(CONFIG_SUFFIXES) or name.startswith(".env") or name == "clouds.yaml":
        return (*PATTERN_PLUGINS, "KeywordDetector")
    return PATTERN_PLUGINS


def scan_text(path: str, text: str) -> list[Finding]:
    """The secrets in one file's text (``path`` as in the repository: its suffix picks the detectors)."""
    from detect_secrets.core.scan import _process_line_based_plugins
    from detect_secrets.settings import transient_settings

    if len(text) > MAX_SCANNED_BYTES or "\x00" in text:
        return []
    config = {"plugins_used": [{"name": name} for name in _plugins_for(path)]}
    lines = list(enumerate(text.splitlines(), start=1))
    found: set[Finding] = set()
    with transient_settings(config):
        for secret in _process_line_based_plugins(lines, filename=path):
            found.add(Finding(path, int(secret.line_number), str(secret.type)))
    return sorted(found)


def scan_tree(files: dict[str, str]) -> list[Finding]:
    """The secrets in several files (path -> text), in path and line order."""
    return sorted(f for path, text in files.items() for f in scan_text(path, text))
