"""Cinder, Swift and Glance on the sandbox through the real openstacksdk."""

from __future__ import annotations

import hashlib
import os

import openstack
import pytest
from sandbox_fixtures import conn, sandbox  # noqa: F401

pytestmark = pytest.mark.timeout(120)


def _wait(conn, volume, status):
    return conn.block_storage.wait_for_status(volume, status, interval=0.05, wait=10)


def test_images_list_filter_show(conn):
    names = {i.name for i in conn.image.images()}
    assert {"Featured-Ubuntu22", "Featured-Ubuntu20", "Featured-RockyLinux8", "Featured-AlmaLinux8"} <= names
    only = list(conn.image.images(name="Featured-RockyLinux8", visibility="public", status="active"))
    assert [i.name for i in only] == ["Featured-RockyLinux8"]
    assert conn.image.get_image(only[0].id).os_distro == "rocky"
    with pytest.raises(openstack.exceptions.ResourceNotFound):
        conn.image.get_image("00000000-0000-0000-0000-000000000000")


def test_volume_lifecycle_with_a_real_backing_file(conn):
    from lab_helpers.sandbox import volume_backing_file

    vol = conn.block_storage.create_volume(size=1, name="lab04-data", metadata={"lab": "04"})
    assert vol.status == "creating"
    vol = _wait(conn, vol, "available")
    path = volume_backing_file(vol.id)
    assert path.stat().st_size == 1024**3
    with open(path, "r+b") as fh:  # real I/O on the volume's file
        fh.write(b"x" * 4096)
    conn.block_storage.set_volume_metadata(vol, owner="lab04")
    assert conn.block_storage.get_volume(vol.id).metadata == {"lab": "04", "owner": "lab04"}
    conn.block_storage.extend_volume(vol, 2)
    assert conn.block_storage.get_volume(vol.id).size == 2 and path.stat().st_size == 2 * 1024**3
    assert [v.name for v in conn.block_storage.volumes(name="lab04-data")] == ["lab04-data"]
    snap = conn.block_storage.create_snapshot(volume_id=vol.id, name="before")
    conn.block_storage.wait_for_status(snap, "available", interval=0.05, wait=10)
    with pytest.raises(openstack.exceptions.BadRequestException, match="have snapshots"):
        conn.block_storage.delete_volume(vol)
    conn.block_storage.delete_snapshot(snap)
    conn.block_storage.delete_volume(vol)
    conn.block_storage.wait_for_delete(vol, interval=0.05, wait=10)
    assert not path.exists()
    with pytest.raises(openstack.exceptions.ResourceNotFound, match="could not be found"):
        conn.block_storage.get_volume(vol.id)


def test_attach_detach_through_nova(conn):
    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    flavor = conn.compute.find_flavor("m3.tiny", ignore_missing=False)
    server = conn.compute.create_server(name="vm", image_id=image.id, flavor_id=flavor.id, networks="auto")
    server = conn.compute.wait_for_server(server, interval=0.05, wait=10)
    vol = _wait(conn, conn.block_storage.create_volume(size=1, name="att"), "available")
    att = conn.compute.create_volume_attachment(server, volume_id=vol.id)
    assert att.device == "/dev/vdb" and att.attachment_id
    vol = _wait(conn, vol, "in-use")
    assert vol.attachments[0]["server_id"] == server.id
    with pytest.raises(openstack.exceptions.BadRequestException, match="attached"):
        conn.block_storage.delete_volume(vol)
    conn.compute.delete_volume_attachment(server, vol.id)
    assert _wait(conn, vol, "available").attachments == []
    conn.compute.delete_server(server)
    conn.block_storage.delete_volume(vol)


def test_cinder_microversion_header(conn):
    resp = conn.block_storage.get("/volumes", microversion="3.70")
    assert resp.status_code == 200 and resp.headers["OpenStack-API-Version"] == "volume 3.70"


def test_volume_quota_is_cinders_413(conn):
    with pytest.raises(openstack.exceptions.HttpException, match="exceeds allowed gigabytes quota") as err:
        conn.block_storage.create_volume(size=5000, name="too-big")
    assert err.value.status_code == 413


def test_swift_containers_objects_listing_and_errors(conn):
    store = conn.object_store
    store.create_container("lab04-logs")
    store.set_container_metadata("lab04-logs", lab="04", learner="me")
    assert store.get_container_metadata("lab04-logs").metadata == {"lab": "04", "learner": "me"}
    for name in ("2026/11/a.log", "2026/11/b.log", "2026/12/c.log", "readme.txt"):
        store.upload_object(container="lab04-logs", name=name, data=name.encode() * 10)
    names = [o.name for o in store.objects("lab04-logs", prefix="2026/11/")]
    assert names == ["2026/11/a.log", "2026/11/b.log"]
    resp = store.get("/lab04-logs", params={"delimiter": "/", "format": "json"})
    assert [r.get("subdir", r.get("name")) for r in resp.json()] == ["2026/", "readme.txt"]
    page = store.get("/lab04-logs", params={"marker": "2026/11/b.log", "limit": 1, "format": "json"}).json()
    assert [r["name"] for r in page] == ["2026/12/c.log"]
    body = b"0123456789"
    store.upload_object(container="lab04-logs", name="digits", data=body, metadata={"kind": "test"})
    head = store.get_object_metadata("digits", container="lab04-logs")
    assert head.etag == hashlib.md5(body).hexdigest() and head.metadata == {"kind": "test"}
    ranged = store.get("/lab04-logs/digits", headers={"Range": "bytes=2-4"})
    assert ranged.status_code == 206 and ranged.content == b"234"
    bad = store.put("/lab04-logs/bad", data=b"abc", headers={"ETag": "0" * 32})
    assert bad.status_code == 422 and "Unprocessable Entity" in bad.text
    with pytest.raises(openstack.exceptions.ConflictException):
        store.delete_container("lab04-logs")
    with pytest.raises(openstack.exceptions.ResourceNotFound):
        store.download_object("missing", container="lab04-logs")
    for obj in list(store.objects("lab04-logs")):
        store.delete_object(obj, container="lab04-logs")
    store.delete_container("lab04-logs")
    assert "lab04-logs" not in [c.name for c in store.containers()]


def test_object_bytes_are_files(conn, sandbox):
    conn.object_store.create_container("blobs")
    data = os.urandom(200_000)
    conn.object_store.upload_object(container="blobs", name="big.bin", data=data)
    assert conn.object_store.download_object("big.bin", container="blobs") == data
    files = [p for p in (sandbox.state_dir / "objects").rglob("*") if p.is_file()]
    assert any(p.stat().st_size == len(data) for p in files)


def test_head_on_an_object_reports_its_size(conn):
    conn.object_store.create_container(name="sizes")
    conn.object_store.upload_object(container="sizes", name="blob", data=b"x" * 1234)
    assert int(conn.object_store.get_object_metadata("blob", container="sizes").content_length) == 1234


def test_volume_metadata_is_validated_like_nova(conn):
    """Cinder and Nova share one rule: string keys and values of at most 255 characters."""
    volume = conn.block_storage.create_volume(name="meta-check", size=1)
    conn.block_storage.wait_for_status(volume, "available", interval=0.1, wait=30)
    with pytest.raises(openstack.exceptions.BadRequestException, match="at most 255 characters"):
        conn.block_storage.set_volume_metadata(volume, **{"k": "x" * 300})
    conn.block_storage.set_volume_metadata(volume, lab="04")
    assert conn.block_storage.get_volume(volume.id).metadata["lab"] == "04"
    conn.block_storage.delete_volume(volume)
