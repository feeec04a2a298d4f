"""Lab 03's judges: right answers pass, typical mistakes get a message that says what to fix."""

from __future__ import annotations

from lab_helpers.checks import evaluate, get_spec


def judge(name, answer, **context):
    return evaluate(get_spec(name), answer, context)


def test_cheapest_flavor():
    need = {"vcpus": 3, "ram_gb": 12}
    assert judge("03.cheapest-flavor", "m3.quad", **need).status == "passed"
    small = judge("03.cheapest-flavor", "m3.small", **need)
    assert small.status == "failed" and "too small" in small.message
    dear = judge("03.cheapest-flavor", "m3.medium", **need)
    assert dear.status == "failed" and "cheaper" in dear.message
    assert "not a Jetstream2 flavor" in judge("03.cheapest-flavor", "t2.micro", **need).message
    assert judge("03.cheapest-flavor", None, **need).status == "not done"


def test_month_su():
    ctx = {"flavor": "m3.small", "count": 2, "days": 30}
    assert judge("03.month-su", 2880, **ctx).status == "passed"
    assert "one server" in judge("03.month-su", 1440, **ctx).message
    assert "days, not hours" in judge("03.month-su", 120, **ctx).message
    assert judge("03.month-su", 3000, **ctx).status == "failed"


def rule(protocol="tcp", low=22, high=22, prefix="0.0.0.0/0"):
    return {
        "direction": "ingress",
        "ethertype": "IPv4",
        "protocol": protocol,
        "port_range_min": low,
        "port_range_max": high,
        "remote_ip_prefix": prefix,
    }


def test_open_ssh_judges_the_rules():
    assert judge("03.open-ssh", [rule()], port=22).status == "passed"
    narrow = judge("03.open-ssh", [rule(prefix="129.114.0.0/16")], port=22)
    assert narrow.status == "passed" and "narrowest" in narrow.message
    everything = judge("03.open-ssh", [rule(protocol=None, low=None, high=None)], port=22)
    assert everything.status == "failed" and "every port" in everything.message
    wide = judge("03.open-ssh", [rule(low=1, high=65535)], port=22)
    assert wide.status == "failed"
    extra = judge("03.open-ssh", [rule(), rule(low=8080, high=8080)], port=22)
    assert extra.status == "failed" and "8080" in extra.message
    assert judge("03.open-ssh", [], port=22).status == "failed"
    assert judge("03.open-ssh", [rule(low=443, high=443)], port=22).status == "failed"
    icmp_too = judge("03.open-ssh", [rule(), rule(protocol="icmp", low=None, high=None)], port=22)
    assert icmp_too.status == "passed"
    assert judge("03.open-ssh", None, port=22).status == "not done"


def test_harmless_variants_pass_and_numbers_as_text_do_not():
    need = {"vcpus": 3, "ram_gb": 12}
    assert judge("03.cheapest-flavor", "  M3.Quad ", **need).status == "passed"
    assert "text" in judge("03.cheapest-flavor", 4, **need).message
    as_text = judge("03.month-su", "2880", flavor="m3.small", count=2, days=30)
    assert as_text.status == "failed" and "text" in as_text.message and "2880" in as_text.message
    assert judge("03.su-stopped", "1", flavor="m3.tiny").status == "failed"
    assert judge("03.su-stopped", 1, flavor="m3.tiny").status == "passed"
    assert "SU per hour" in judge("03.su-stopped", None, flavor="m3.tiny").message  # the shape, told when not done


def test_the_g3_rate_follows_the_newer_documentation_and_keeps_the_older_figure():
    from lab_helpers.resources.cost import su_per_hour, su_rate_lines, su_rates

    g3 = next(r for r in su_rates() if r["family"] == "g3")
    assert g3["su_per_vcpu_hour"] == 2 and "instance-flavors" in g3["source"]
    assert g3["older"]["su_per_vcpu_hour"] == 4 and "vmsizes" in g3["older"]["source"]
    assert su_per_hour("g3.small") == 8  # 4 vCPUs x 2
    line = next(line for line in su_rate_lines() if line.startswith("g3:"))
    assert "instance-flavors" in line and "older version of the page said 4" in line
