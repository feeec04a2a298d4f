"""The public surface of lab_helpers is small and deliberate: changing it must be a decision."""

import subprocess
import sys

import lab_helpers

EXPECTED = ["LabError", "UsageError", "check", "cloud_name", "connect_cloud", "doctor", "resolve_backend", "setup", "state_dir"]


def test_public_names_are_pinned():
    assert lab_helpers.__all__ == EXPECTED


def test_every_public_name_resolves():
    for name in EXPECTED:
        assert getattr(lab_helpers, name) is not None


def test_unknown_attribute_is_an_attribute_error():
    try:
        lab_helpers.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_is_light():
    """`import lab_helpers` pulls in none of the heavy libraries (the 0.3 s budget)."""
    code = (
        "import sys, lab_helpers\n"
        "heavy = [m for m in ('cupy', 'numpy', 'openstack', 'kubernetes', 'plotly', 'papermill', 'jupyter_client') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
