"""Swift on the sandbox through the real openstacksdk: /info, Static Large Objects uploaded by
the SDK's own segmenting (proxy and cloud layer), manifests checked as Swift checks them,
Range as swob reads it, and Swift's limits on names, metadata and listings."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from sandbox_fixtures import conn, sandbox  # noqa: F401

pytestmark = pytest.mark.timeout(120)
SEGMENT = 64 * 1024


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    data = os.urandom(5 * SEGMENT + 1234)
    path = tmp_path_factory.mktemp("slo") / "big.bin"
    path.write_bytes(data)
    return path, data


@pytest.fixture(scope="module")
def container(conn):
    conn.object_store.create_container("slo-lab")
    return "slo-lab"


def _names(conn, container):
    return sorted(o.name for o in conn.object_store.objects(container))


def test_info_has_the_slo_section(conn):
    info = conn.object_store.get_info()
    assert info.slo["max_manifest_segments"] == 1000 and info.slo["min_segment_size"] >= 1
    assert info.swift["max_object_name_length"] == 1024


def test_proxy_uploads_a_file_in_segments_and_reads_it_back(conn, container, payload):
    path, data = payload
    conn.object_store.create_object(container, "big.bin", filename=str(path), segment_size=SEGMENT)
    names = _names(conn, container)
    assert names == ["big.bin"] + [f"big.bin/{i:06d}" for i in range(6)]
    head = conn.object_store.get(f"/{container}/big.bin", headers={}).headers
    assert head["X-Static-Large-Object"] == "True" and int(head["Content-Length"]) == len(data)
    seg_etags = "".join(hashlib.md5(data[i : i + SEGMENT]).hexdigest() for i in range(0, len(data), SEGMENT))
    assert head["Etag"] == f'"{hashlib.md5(seg_etags.encode()).hexdigest()}"'
    assert conn.object_store.download_object("big.bin", container=container) == data
    # A second upload of the same file is skipped by the SDK (its checksum metadata matches).
    conn.object_store.create_object(container, "big.bin", filename=str(path), segment_size=SEGMENT)
    small = conn.object_store.create_object(container, "small.txt", data=b"hello")
    assert conn.object_store.download_object(small) == b"hello"


def test_range_reads_cross_segments(conn, container, payload):
    _, data = payload
    resp = conn.object_store.get(f"/{container}/big.bin", headers={"Range": f"bytes={SEGMENT - 10}-{SEGMENT + 9}"})
    assert resp.status_code == 206 and resp.content == data[SEGMENT - 10 : SEGMENT + 10]
    assert resp.headers["Content-Range"] == f"bytes {SEGMENT - 10}-{SEGMENT + 9}/{len(data)}"
    tail = conn.object_store.get(f"/{container}/big.bin", headers={"Range": "bytes=-100"})
    assert tail.content == data[-100:]


def test_manifest_get_and_raw(conn, container, payload):
    _, data = payload
    stored = conn.object_store.get(f"/{container}/big.bin", params={"multipart-manifest": "get"})
    rows = stored.json()
    assert stored.headers["Content-Type"].startswith("application/json")
    assert [r["name"] for r in rows] == [f"/{container}/big.bin/{i:06d}" for i in range(6)]
    assert sum(r["bytes"] for r in rows) == len(data)
    raw = conn.object_store.get(f"/{container}/big.bin", params={"multipart-manifest": "get", "format": "raw"}).json()
    assert set(raw[0]) == {"path", "etag", "size_bytes"}
    listing = conn.object_store.get(f"/{container}", params={"format": "json", "prefix": "big.bin", "limit": 1}).json()
    assert listing[0]["bytes"] == len(data) and listing[0]["slo_etag"].startswith('"')


def test_manifests_are_checked_like_swift(conn, container):
    store = conn.object_store
    store.create_object(container, "part-a", data=b"a" * 10)
    etag = hashlib.md5(b"a" * 10).hexdigest()

    def put(manifest):
        body = manifest if isinstance(manifest, str) else json.dumps(manifest)
        return store.put(f"/{container}/joined", params={"multipart-manifest": "put"}, data=body)

    bad_etag = put([{"path": f"/{container}/part-a", "etag": "0" * 32, "size_bytes": 10}])
    assert bad_etag.status_code == 400 and f"/{container}/part-a, Etag Mismatch" in bad_etag.text
    bad_size = put([{"path": f"/{container}/part-a", "etag": etag, "size_bytes": 11}])
    assert bad_size.status_code == 400 and "Size Mismatch" in bad_size.text
    missing = put([{"path": f"/{container}/nope", "etag": None, "size_bytes": None}])
    assert missing.status_code == 400 and f"/{container}/nope, 404 Not Found" in missing.text
    assert put("not json").status_code == 400 and "valid JSON" in put("not json").text
    assert "must be a list" in put({"path": "x"}).text
    no_container = put([{"path": "no-container-part"}])
    assert no_container.status_code == 400 and "Index 0: path does not refer to an object" in no_container.text
    assert put([{"path": f"/{container}/part-a", "size_bytes": "ten"}]).status_code == 400
    assert put([5]).status_code == 400
    good = put(
        [
            {"path": f"/{container}/part-a", "etag": etag, "size_bytes": 10},
            {"path": f"/{container}/part-a", "range": "2-4"},
        ]
    )
    assert good.status_code == 201
    assert store.download_object("joined", container=container) == b"a" * 10 + b"aaa"
    assert store.get(f"/{container}/joined", params={"multipart-manifest": "get"}).json()[1]["range"] == "2-4"
    # A segment replaced afterwards breaks the download with Swift's 409.
    store.create_object(container, "part-a", data=b"b" * 10)
    assert store.get(f"/{container}/joined").status_code == 409
    assert store.delete(f"/{container}/joined").status_code == 204
    assert "part-a" in _names(conn, container)


def test_cloud_layer_upload_download_and_delete_with_segments(conn, payload, tmp_path):
    path, data = payload
    conn.create_container("slo-cloud")
    conn.create_object("slo-cloud", "big.bin", filename=str(path), segment_size=SEGMENT)
    conn.create_object("slo-cloud", "notes.txt", data="from data")
    out = tmp_path / "back.bin"
    headers, _ = conn.get_object("slo-cloud", "big.bin", outfile=str(out))  # the body as bytes (without outfile: text)
    assert out.read_bytes() == data and headers["x-static-large-object"] == "True"
    assert conn.get_object_raw("slo-cloud", "big.bin").content == data
    assert conn.get_object("slo-cloud", "notes.txt")[1] == "from data"
    assert conn.delete_object("slo-cloud", "big.bin")
    assert [o["name"] for o in conn.list_objects("slo-cloud")] == ["notes.txt"]
    conn.delete_object("slo-cloud", "notes.txt")
    conn.delete_container("slo-cloud")


def test_dynamic_large_object_when_the_sdk_is_told_not_to_use_slo(conn, payload):
    path, data = payload
    conn.object_store.create_container("dlo-lab")
    conn.object_store.create_object("dlo-lab", "big.bin", filename=str(path), segment_size=SEGMENT, use_slo=False)
    head = conn.object_store.get("/dlo-lab/big.bin", headers={"Range": "bytes=0-0"}).headers
    assert head["X-Object-Manifest"] == "dlo-lab/big.bin"
    assert conn.object_store.download_object("big.bin", container="dlo-lab") == data
    tail = conn.object_store.get("/dlo-lab/big.bin", headers={"Range": f"bytes={len(data) - 5}-"})
    assert tail.status_code == 206 and tail.content == data[-5:]
    assert conn.object_store.put("/dlo-lab/bad", headers={"X-Object-Manifest": "no-prefix"}).status_code == 400


def test_manifest_delete_removes_segments(conn, container, payload):
    resp = conn.object_store.delete(f"/{container}/big.bin", params={"multipart-manifest": "delete"})
    assert resp.status_code == 200 and "Number Deleted: 7" in resp.text
    assert not [n for n in _names(conn, container) if n.startswith("big.bin")]


@pytest.mark.parametrize(
    "header,status,body",
    [
        ("bytes=2-4", 206, b"234"),
        ("bytes=-3", 206, b"789"),
        ("bytes=7-", 206, b"789"),
        ("bytes=5-3", 200, b"0123456789"),
        ("items=0-1", 200, b"0123456789"),
        ("bytes=a-b", 200, b"0123456789"),
        ("bytes=", 200, b"0123456789"),
        ("bytes=10-", 416, None),
        ("bytes=-0", 416, None),
        ("bytes=50-60", 416, None),
    ],
)
def test_range_headers_as_swift_reads_them(conn, container, header, status, body):
    conn.object_store.create_object(container, "digits", data=b"0123456789")
    resp = conn.object_store.get(f"/{container}/digits", headers={"Range": header})
    assert resp.status_code == status
    if body is not None:
        assert resp.content == body
    else:
        assert resp.headers["Content-Range"] == "bytes */10"


def test_multiple_ranges_are_multipart(conn, container):
    conn.object_store.create_object(container, "digits", data=b"0123456789")
    resp = conn.object_store.get(f"/{container}/digits", headers={"Range": "bytes=0-1,8-9"})
    assert resp.status_code == 206 and resp.headers["Content-Type"].startswith("multipart/byteranges")
    assert (
        b"Content-Range: bytes 0-1/10\r\n\r\n01\r\n" in resp.content
        and b"Content-Range: bytes 8-9/10\r\n\r\n89\r\n" in resp.content
    )


def test_swift_name_metadata_and_listing_limits(conn, container):
    store = conn.object_store
    long = store.put(f"/{container}/{'n' * 100_000}", data=b"x")
    assert (
        long.status_code == 414
    )  # a request line over 64 KiB is refused by the HTTP server (eventlet's limit is 8 KiB)
    ten_k = store.put(f"/{container}/{'n' * 10_000}", data=b"x")
    assert ten_k.status_code == 400 and "Object name length of 10000 longer than 1024" in ten_k.text
    over = store.put(f"/{container}/{'n' * 1025}", data=b"x")
    assert over.status_code == 400 and "Object name length of 1025 longer than 1024" in over.text
    wide = store.put(f"/{container}/{'é' * 513}", data=b"x")  # 1026 bytes of UTF-8
    assert wide.status_code == 400 and "1026 longer than 1024" in wide.text
    assert store.put(f"/{container}/{'n' * 1024}", data=b"x").status_code == 201
    cont = store.put(f"/{'c' * 257}")
    assert cont.status_code == 400 and "Container name length of 257 longer than 256" in cont.text
    assert store.put(f"/{container}/m", data=b"x", headers={"X-Object-Meta-K": "v" * 257}).status_code == 400
    assert store.put(f"/{container}/m", data=b"x", headers={"X-Object-Meta-" + "k" * 129: "v"}).status_code == 400
    assert store.put(f"/{container}/m", data=b"x", headers={"X-Delete-At": "soon"}).status_code == 400
    assert store.head(f"/{container}/m").status_code == 404  # nothing refused was stored
    assert store.post(f"/{container}", headers={"X-Container-Meta-" + "k" * 129: "v"}).status_code == 400
    account = store.post("", headers={"X-Account-Meta-K": "v" * 257})
    assert account.status_code == 400 and "Metadata value longer than 256: X-Account-Meta-K" in account.text
    every = store.get(f"/{container}", params={"format": "json"}).json()
    assert store.get(f"/{container}", params={"format": "json", "limit": -1}).json() == every  # Swift ignores it
    too_many = store.get(f"/{container}", params={"limit": 10001})
    assert too_many.status_code == 412 and "Maximum limit is 10000" in too_many.text
