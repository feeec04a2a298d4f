"""An S3 client for the object store, the way Jetstream2's documentation reaches it: the learner's own
EC2 credential (``openstack ec2 credentials create``), asked of Keystone through the lab's connection,
and boto3 pointed at the object store's S3 endpoint. Nothing here prints the secret."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import MissingPiece

if TYPE_CHECKING:  # pragma: no cover
    from openstack.connection import Connection

S3_SERVICE_TYPES = ("s3", "ec2")  # what a Keystone catalog may call the object store's S3 API


def ec2_credential(conn: Connection) -> tuple[str, str]:
    """(access, secret) of the learner's EC2 credential for the connection's project: the first one
    Keystone lists for it, else a new one (what ``openstack ec2 credentials create`` makes)."""
    user, project = conn.current_user_id, conn.current_project_id
    if not user or not project:
        raise MissingPiece(
            "the connection is scoped to no user and project, so Keystone cannot give it an EC2 credential.",
            hint="Use a project-scoped credential (an application credential's clouds.yaml).",
        )
    path = f"/users/{user}/credentials/OS-EC2"
    listing = conn.identity.get(path)
    listing.raise_for_status()
    mine = [c for c in listing.json().get("credentials", []) if c.get("tenant_id") == project]
    if mine:
        return str(mine[0]["access"]), str(mine[0]["secret"])
    created = conn.identity.post(path, json={"tenant_id": project})
    created.raise_for_status()
    cred = created.json()["credential"]
    return str(cred["access"]), str(cred["secret"])


def catalog_s3_endpoint(conn: Connection) -> str | None:
    """The public URL of an ``s3`` (or ``ec2``) service in the connection's catalog, if it lists one."""
    try:
        entries = conn.service_catalog or []
    except Exception:  # a connection without a token's catalog: fall back to the facts in data/
        return None
    for wanted in S3_SERVICE_TYPES:
        for service in entries:
            if service.get("type") != wanted:
                continue
            for endpoint in service.get("endpoints", []):
                if endpoint.get("interface") == "public" and endpoint.get("url"):
                    return str(endpoint["url"]).rstrip("/")
    return None


def s3_client(endpoint: str, access: str, secret: str, region: str) -> Any:
    """A boto3 S3 client: Signature Version 4, path-style addresses (``endpoint/bucket/key``)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        region_name=region,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
