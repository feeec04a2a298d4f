import pytest

from lab_helpers.config import SETTINGS, resolve_backend, sandbox_boot_seconds, state_dir
from lab_helpers.errors import UsageError


def test_backend_defaults_to_sandbox(monkeypatch):
    monkeypatch.delenv("LAB_BACKEND", raising=False)
    assert resolve_backend() == "sandbox"


def test_backend_from_environment_and_argument(monkeypatch):
    monkeypatch.setenv("LAB_BACKEND", "live")
    assert resolve_backend() == "live"
    assert resolve_backend("Sandbox") == "sandbox"


def test_unknown_backend_names_the_valid_ones():
    with pytest.raises(UsageError) as err:
        resolve_backend("aws")
    assert "sandbox, live" in str(err.value)


def test_state_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path / "s"))
    assert state_dir() == tmp_path / "s" and (tmp_path / "s").is_dir()


def test_boot_seconds_rejects_garbage(monkeypatch):
    monkeypatch.setenv("LAB_SANDBOX_BOOT_S", "soon")
    with pytest.raises(UsageError):
        sandbox_boot_seconds()


def test_every_setting_is_described():
    assert all(s.description and s.name.isupper() for s in SETTINGS)
