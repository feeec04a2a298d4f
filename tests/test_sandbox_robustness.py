"""Bad requests get the service's own 4xx, never a 500 or a traceback; and the JS2 facts the
sandbox serves come from data/jetstream2.yaml with their sources."""

from __future__ import annotations

import itertools

import pytest
import requests
from sandbox_fixtures import conn, sandbox  # noqa: F401

pytestmark = pytest.mark.timeout(120)

BODIES = [b"", b"null", b"[]", b'"x"', b"{}", b'{"server": "x"}', b'{"server": {"name": 5}}', b'{"volume": {"size": "abc"}}',
          b'{"network": []}', b'{"security_group_rule": {"security_group_id": 5}}', b'{"floatingip": {}}', b'{"metadata": []}',
          b'{"tags": "x"}', b'{"os-stop": null}', b'{"reboot": []}', b'{"keypair": {"name": "a", "public_key": "junk"}}',
          b'{"auth": {"identity": []}}', b'{"subnet": {"network_id": "x", "cidr": 5}}', b'{"router": {"external_gateway_info": "x"}}',
          b'{"volumeAttachment": {"volumeId": []}}', b'{"os-extend": {"new_size": "x"}}', b'{"os-getConsoleOutput": {"length": "x"}}',
          b'{"server": {"name": "a", "flavorRef": "m3.tiny", "imageRef": "x", "networks": [{"uuid": 5}]}}']


def test_malformed_requests_never_500(conn, sandbox):
    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    flavor = conn.compute.find_flavor("m3.tiny", ignore_missing=False)
    server = conn.compute.create_server(name="fuzz", image_id=image.id, flavor_id=flavor.id, networks="auto")
    vol = conn.block_storage.create_volume(size=1, name="fuzz")
    net = conn.network.find_network("auto_allocated_network", ignore_missing=False)
    pid = conn.current_project_id
    paths = ["/identity/v3/auth/tokens", "/compute/v2.1/servers", f"/compute/v2.1/servers/{server.id}/action",
             f"/compute/v2.1/servers/{server.id}/metadata", f"/compute/v2.1/servers/{server.id}/tags", "/compute/v2.1/os-keypairs",
             f"/compute/v2.1/servers/{server.id}/os-volume_attachments", f"/volume/v3/{pid}/volumes", f"/volume/v3/{pid}/volumes/{vol.id}/action",
             f"/volume/v3/{pid}/volumes/{vol.id}/metadata", "/network/v2.0/networks", "/network/v2.0/subnets", "/network/v2.0/routers",
             "/network/v2.0/security-group-rules", "/network/v2.0/floatingips", f"/network/v2.0/networks/{net.id}/tags",
             f"/swift/v1/AUTH_{pid}/c", f"/swift/v1/AUTH_{pid}/c/o"]
    headers = {"X-Auth-Token": conn.session.get_token(), "Content-Type": "application/json"}
    failures = []
    with requests.Session() as http:
        for path, body, method in itertools.product(paths, BODIES, ("POST", "PUT")):
            resp = http.request(method, sandbox.base_url + path, data=body, headers=headers, timeout=10)
            if resp.status_code >= 500 or "Traceback" in resp.text:
                failures.append((method, path, body, resp.status_code))
        for query in ("/compute/v2.1/servers?limit=x", "/compute/v2.1/servers?marker=zz", "/compute/v2.1/servers?name=(",
                      f"/swift/v1/AUTH_{pid}?limit=x", f"/volume/v3/{pid}/volumes?metadata={{bad", "/no/such/service"):
            resp = http.get(sandbox.base_url + query, headers=headers, timeout=10)
            if resp.status_code >= 500:
                failures.append(("GET", query, b"", resp.status_code))
    assert failures == []
    bad = requests.post(f"{sandbox.base_url}/compute/v2.1/servers", data=b"[]", headers=headers, timeout=10)
    assert bad.status_code == 400 and "badRequest" in bad.json()


def test_flavor_su_rates_follow_the_family_rate():
    from lab_helpers.paths import load_yaml
    from lab_helpers.sandbox import catalog_data

    data = load_yaml("jetstream2.yaml")
    for family, row in data["su_rates"].items():
        assert row["source"].startswith("https://") and row["read"]
    rates = {f.name: f.su_per_hour for f in catalog_data.flavors()}
    assert rates["m3.quad"] == 4 * data["su_rates"]["m3"]["su_per_vcpu_hour"]
    assert rates["r3.large"] == 64 * data["su_rates"]["r3"]["su_per_vcpu_hour"]
    assert rates["g3.small"] == 4 * data["su_rates"]["g3"]["su_per_vcpu_hour"]
    quota = catalog_data.project_quota()
    assert (quota["cores"], quota["ram"] // 1024, quota["floatingip"]) == (150, 585, 10)
    assert {h.type for h in catalog_data.hosts()} == {"compute", "gpu", "large-memory"}


def test_su_charge_follows_js2_state_fractions():
    from lab_helpers.sandbox.metering import su_used

    hour = 3600.0
    server = {"su_per_hour": 4.0, "events": [[0.0, "BUILD"], [10.0, "ACTIVE"], [10 + hour, "SHUTOFF"],
                                             [10 + 2 * hour, "SHELVED_OFFLOADED"], [10 + 3 * hour, "ACTIVE"]]}
    # 1 h ACTIVE (4 SU) + 1 h stopped at 50 % (2 SU) + 1 h shelved (0) + 30 min ACTIVE (2 SU); BUILD is free
    assert su_used(server, 10 + 3.5 * hour) == pytest.approx(8.0)
