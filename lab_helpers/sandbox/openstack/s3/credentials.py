"""The learner's own EC2 credential for the S3 API, asked of the sandbox's Keystone the way
``openstack ec2 credentials create`` asks it: created on first use, the same one reused after. The
endpoint is the one Keystone's catalog lists: the root of S3's own port, as Jetstream2's S3 is."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from .constants import PREFIX, REGION


def _call(url: str, method: str = "GET", body: Any = None, token: str = "") -> tuple[dict[str, Any], str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("X-Auth-Token", token)
    with urllib.request.urlopen(req, timeout=30) as resp:  # the sandbox, on 127.0.0.1
        return json.loads(resp.read() or b"{}"), resp.headers.get("X-Subject-Token", "")


def learner_ec2(base_url: str, clouds_yaml: Path) -> dict[str, str]:
    """``{"access", "secret", "endpoint"}`` of the learner's EC2 credential on this sandbox and its S3 endpoint."""
    import yaml

    auth = yaml.safe_load(Path(clouds_yaml).read_text(encoding="utf-8"))["clouds"]["sandbox"]["auth"]
    identity = f"{base_url}/identity/v3"
    body = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {
                    "id": auth["application_credential_id"],
                    "secret": auth["application_credential_secret"],
                },
            }
        }
    }
    answer, token = _call(f"{identity}/auth/tokens", "POST", body)
    user, project = answer["token"]["user"]["id"], answer["token"]["project"]["id"]
    listing, _ = _call(f"{identity}/users/{user}/credentials/OS-EC2", token=token)
    mine = [c for c in listing.get("credentials", []) if c.get("tenant_id") == project]
    if mine:
        cred = mine[0]
    else:
        created, _ = _call(f"{identity}/users/{user}/credentials/OS-EC2", "POST", {"tenant_id": project}, token)
        cred = created["credential"]
    return {"access": cred["access"], "secret": cred["secret"], "endpoint": _endpoint(answer["token"], base_url)}


def _endpoint(token: dict[str, Any], base_url: str) -> str:
    """The S3 endpoint the token's catalog lists (the root of S3's own port), as a client finds it."""
    for service in token.get("catalog") or []:
        if service.get("type") == "s3":
            for ep in service.get("endpoints") or []:
                if ep.get("interface") == "public" and ep.get("url"):
                    return str(ep["url"]).rstrip("/")
    return f"{base_url}{PREFIX}"  # a sandbox from before S3 had a port of its own


def env_exports(base_url: str, clouds_yaml: Path) -> list[str]:
    """What boto3 and the AWS CLI read: the endpoint, the key pair and the region."""
    import shlex

    cred = learner_ec2(base_url, clouds_yaml)
    return [
        f"export AWS_ENDPOINT_URL={shlex.quote(cred['endpoint'])}",
        f"export AWS_ACCESS_KEY_ID={shlex.quote(cred['access'])}",
        f"export AWS_SECRET_ACCESS_KEY={shlex.quote(cred['secret'])}",
        f"export AWS_DEFAULT_REGION={REGION}",
    ]
