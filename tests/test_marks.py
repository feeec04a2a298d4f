"""Marks: one concept, carried by OpenStack (metadata, tags, description) and Kubernetes (labels, annotation)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from lab_helpers.marks import (
    KEY_EXPIRES,
    KEY_LAB,
    KEY_LEARNER,
    Marks,
    is_label_value,
    matches,
    parse,
    parse_object,
    slug,
)

# Kubernetes' own rules (apimachinery's validation), written out here rather than taken from the
# module under test: a label key is an optional DNS-subdomain prefix and "/", then a name; names
# and values are at most 63 characters of [A-Za-z0-9-_.] beginning and ending alphanumeric.
NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def valid_label_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not SUBDOMAIN.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(NAME.match(name))


def valid_label_value(value: str) -> bool:
    return value == "" or (len(value) <= 63 and bool(NAME.match(value)))


LEARNERS = ["ada", "Ada.Lovelace@example.edu", "  spaced  name ", "ünïcode-only-ü", "x" * 200, "-a-" * 40, "___"]


@pytest.mark.parametrize("learner", LEARNERS)
def test_labels_are_valid_kubernetes_labels(learner: str) -> None:
    marks = Marks.for_lab("05", learner=learner, hours=2)
    labels = marks.labels()
    assert labels, "a Kubernetes object needs at least the lab and learner labels"
    for key, value in labels.items():
        assert valid_label_key(key), key
        assert valid_label_value(value), f"{key}={value!r}"
    for key in marks.annotations():
        assert valid_label_key(key), key  # annotation keys follow the same rule


def test_the_iso_expiry_is_not_a_label_value_and_rides_in_an_annotation() -> None:
    marks = Marks.for_lab("05", learner="ada", hours=1)
    assert not valid_label_value(marks.expires)  # the reason the expiry cannot be a label
    assert not is_label_value(marks.expires)
    assert marks.expires not in marks.labels().values()
    assert list(marks.annotations().values()) == [marks.expires]
    datetime.strptime(marks.expires, "%Y-%m-%dT%H:%M:%SZ")


def test_a_label_value_kubernetes_would_refuse_is_refused_here_too() -> None:
    with pytest.raises(ValueError, match="label values"):
        Marks("lab 05", "ada", "2030-01-01T00:00:00Z").labels()


@pytest.mark.parametrize("learner", LEARNERS)
def test_every_form_round_trips(learner: str) -> None:
    marks = Marks.for_lab("04", learner=learner, hours=3)
    kube = {"labels": marks.labels(), "annotations": marks.annotations()}
    for source in (marks.metadata(), marks.tags(), marks.description(), {**marks.labels(), **marks.annotations()}):
        assert Marks.from_found(parse(source)) == marks, source
    assert Marks.from_found(parse_object(kube)) == marks
    assert marks.name("web").startswith(marks.name_prefix())


def test_labels_alone_find_the_learner_but_are_not_whole_marks() -> None:
    marks = Marks.for_lab("05", learner="ada", hours=1)
    found = parse_object({"labels": marks.labels()})
    assert found == {KEY_LAB: "05", KEY_LEARNER: "ada"}
    assert matches(found, learner="Ada", lab="05")
    assert not matches(found, learner="bob")
    assert Marks.from_found(found) is None
    assert marks.selector() == "visualizing-compute/lab=05,visualizing-compute/learner=ada"


def test_expired_only_reads_the_annotation() -> None:
    old = Marks("05", "ada", "2000-01-01T00:00:00Z")
    fresh = Marks.for_lab("05", learner="ada", hours=5)
    assert matches(
        parse_object({"labels": old.labels(), "annotations": old.annotations()}), learner="ada", expired_only=True
    )
    assert not matches(
        parse_object({"labels": fresh.labels(), "annotations": fresh.annotations()}), learner="ada", expired_only=True
    )


def test_slug_is_a_label_value_and_stable() -> None:
    for text in LEARNERS:
        value = slug(text)
        assert valid_label_value(value) and value == slug(value), (text, value)
    assert slug("Ada Lovelace") == "ada-lovelace"
    assert parse({"Course-Lab": "03", "other": "1"}) == {KEY_LAB: "03"}
    assert KEY_EXPIRES in parse(Marks.for_lab("03", learner="a", hours=1).metadata())
