"""SU rates, marks and the cleanup report: pure functions, no cloud."""

from __future__ import annotations

import pytest

from lab_helpers.errors import UsageError
from lab_helpers.marks import Marks, matches, parse
from lab_helpers.paths import load_yaml
from lab_helpers.resources.cleanup import CleanupReport
from lab_helpers.resources.cost import cheapest_flavor, state_charge, su_for, su_per_hour
from lab_helpers.resources.inventory import Found, keypair_marks


def test_su_rates_follow_the_data_file():
    data = load_yaml("jetstream2.yaml")
    rates = {family: v["su_per_vcpu_hour"] for family, v in data["su_rates"].items()}
    for flavor in data["flavors"]:
        family = flavor["name"].split(".")[0]
        assert su_per_hour(flavor["name"]) == rates[family] * flavor["vcpus"]
    assert su_per_hour("m3.small") == 2.0
    with pytest.raises(UsageError, match="unknown flavor"):
        su_per_hour("m9.huge")


def test_state_charge():
    assert state_charge("ACTIVE") == 1.0
    assert state_charge("SHUTOFF") == 0.5
    assert state_charge("ERROR") == 0.0 and state_charge("BUILD") == 0.0


def test_cheapest_flavor_and_month():
    assert cheapest_flavor(3, 12) == "m3.quad"
    assert cheapest_flavor(1, 1) == "m3.tiny"
    assert cheapest_flavor(2, 40) == "m3.large"  # RAM decides
    assert cheapest_flavor(64, 400) == "r3.large"  # only the large-memory family has it
    with pytest.raises(UsageError):
        cheapest_flavor(500, 10)
    assert su_for("m3.small", count=2, hours=24 * 30) == 2880


def test_marks_round_trip_and_expiry():
    fresh = Marks.for_lab("03", learner="Ana Lopez")
    assert fresh.learner == "ana-lopez"
    assert fresh.name("vm") == "course-ana-lopez-03-vm"
    for source in (fresh.metadata(), fresh.tags(), fresh.description()):
        assert parse(source) == fresh.metadata()
    assert matches(parse(fresh.tags()), learner="ana-lopez", lab="03")
    assert not matches(parse(fresh.tags()), learner="someone-else")
    assert not matches(parse(fresh.tags()), learner=None, expired_only=True)
    old = Marks.for_lab("03", learner="x", hours=-1)
    assert matches(old.metadata(), learner=None, expired_only=True)
    assert not matches({}, learner=None)


def test_keypair_names_with_dashes():
    name = Marks.for_lab("03", learner="someone-else").name("key")
    assert keypair_marks(name, "someone-else") == {"course-learner": "someone-else", "course-lab": "03"}
    assert keypair_marks(name, None) == {"course-learner": "someone-else", "course-lab": "03"}
    assert keypair_marks(name, "someone") == {}  # another learner whose id is a prefix of this one's
    assert keypair_marks("my-own-key", None) == {}
    assert keypair_marks(name, "alice") == {}


def test_report_says_what_it_removed_and_stopped():
    server = Found("server", "1", "course-a-03-vm", "03", "a", 4.0, {"status": "ACTIVE"})
    broken = Found("server", "2", "course-a-03-big", "03", "a", 0.0, {"status": "ERROR"})
    objs = [
        Found("object", f"c/o{i}", f"c/o{i}", "03", "a", extra={"container": "c", "object": f"o{i}"}) for i in range(5)
    ]
    container = Found("container", "c", "c", "03", "a")
    report = CleanupReport(removed=[server, broken, *objs, container])
    text = str(report)
    assert "4 SU/hour stopped" in text and "8 resources removed" in text
    assert "5 in c" in text and text.count("objects") == 1
    assert text.index("5 in c") < text.index("container")
    assert "ERROR" in text
    dry = CleanupReport(removed=[server], dry_run=True)
    assert "would remove" in str(dry) and "4 SU/hour would stop" in str(dry)
    assert "nothing to clean up" in str(CleanupReport())
    failed = CleanupReport(failed=[(server, "ServiceError: stuck")])
    assert "FAILED" in str(failed) and "again" in str(failed)
