"""S3 on the sandbox through real clients: boto3's client and resource APIs (managed multipart
upload and download), openstacksdk reading what S3 wrote and S3 reading what Swift wrote, a
presigned URL fetched by `requests` without credentials, S3's own auth errors, virtual-hosted
addressing, and a bounded fuzz of malformed signed requests that must never get a 500."""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import socket
import subprocess
import sys

import pytest
import requests
from sandbox_fixtures import conn, sandbox  # noqa: F401

boto3 = pytest.importorskip("boto3")
from botocore.auth import S3SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

pytestmark = pytest.mark.timeout(180)
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def aws_env(sandbox):
    """What `eval "$(lab sandbox env)"` exports for boto3 (run as the learner runs it)."""
    out = subprocess.run(
        [sys.executable, "-m", "lab_helpers", "sandbox", "env"],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
        timeout=120,
    )
    env = {}
    for line in out.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value.strip("'\"")
    return env


def _client(env, **kw):
    return boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=kw.pop("access", env["AWS_ACCESS_KEY_ID"]),
        aws_secret_access_key=kw.pop("secret", env["AWS_SECRET_ACCESS_KEY"]),
        region_name=env["AWS_DEFAULT_REGION"],
        **kw,
    )


@pytest.fixture(scope="module")
def s3(aws_env):
    return _client(aws_env)


@pytest.fixture(scope="module")
def bucket(s3):
    s3.create_bucket(Bucket="s3-lab")
    return "s3-lab"


def _code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def test_env_exports_are_stable_and_complete(aws_env, sandbox):
    assert aws_env["AWS_DEFAULT_REGION"] == "IU"
    # the root of S3's own port, as Jetstream2's is its port 8001: no path, not the main port
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", aws_env["AWS_ENDPOINT_URL"]), aws_env["AWS_ENDPOINT_URL"]
    assert aws_env["AWS_ENDPOINT_URL"] == sandbox.url("s3") != sandbox.base_url
    again = subprocess.run(
        [sys.executable, "-m", "lab_helpers", "sandbox", "env"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert f"AWS_ACCESS_KEY_ID={aws_env['AWS_ACCESS_KEY_ID']}" in again  # reused, not a new credential each time


def test_put_get_head_range_and_errors(s3, bucket):
    s3.put_object(Bucket=bucket, Key="notes/a.txt", Body=b"hello object", Metadata={"course": "vc"})
    got = s3.get_object(Bucket=bucket, Key="notes/a.txt")
    assert got["Body"].read() == b"hello object" and got["Metadata"] == {"course": "vc"}
    assert got["ETag"] == f'"{hashlib.md5(b"hello object").hexdigest()}"'
    assert s3.head_object(Bucket=bucket, Key="notes/a.txt")["ContentLength"] == 12
    part = s3.get_object(Bucket=bucket, Key="notes/a.txt", Range="bytes=6-11")
    assert part["Body"].read() == b"object" and part["ContentRange"] == "bytes 6-11/12"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="missing")
    assert _code(exc) == "NoSuchKey"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="no-such-bucket", Key="x")
    assert _code(exc) == "NoSuchBucket"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="notes/a.txt", Range="bytes=100-200")
    assert _code(exc) == "InvalidRange"
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_bucket_lifecycle_and_bucket_not_empty(s3):
    s3.create_bucket(Bucket="short-lived")
    s3.put_object(Bucket="short-lived", Key="k", Body=b"1")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket="short-lived")
    assert _code(exc) == "BucketNotEmpty"
    s3.delete_object(Bucket="short-lived", Key="k")
    s3.delete_bucket(Bucket="short-lived")
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket="short-lived")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket="Not_Valid")
    assert _code(exc) == "InvalidBucketName"


def test_list_objects_v2_prefix_delimiter_and_continuation(s3, bucket):
    s3.create_bucket(Bucket="listing")
    keys = [f"logs/2024/{i:02d}.txt" for i in range(7)] + ["logs/readme", "other/x", "top"]
    for k in keys:
        s3.put_object(Bucket="listing", Key=k, Body=k.encode())
    page = s3.list_objects_v2(Bucket="listing", Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["logs/", "other/"]
    assert [o["Key"] for o in page["Contents"]] == ["top"]
    seen, token, pages = [], None, 0
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket="listing", Prefix="logs/", MaxKeys=3, **kw)
        seen += [o["Key"] for o in page.get("Contents", [])]
        pages += 1
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == sorted(k for k in keys if k.startswith("logs/")) and pages == 3
    paginated = s3.get_paginator("list_objects_v2").paginate(
        Bucket="listing", Delimiter="/", PaginationConfig={"PageSize": 1}
    )
    prefixes = [p["Prefix"] for page in paginated for p in page.get("CommonPrefixes", [])]
    assert prefixes == ["logs/", "other/"]


def test_copy_keeps_or_replaces_metadata(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", Metadata={"a": "1"}, ContentType="text/plain")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"copy me" and got["Metadata"] == {"a": "1"} and got["ContentType"] == "text/plain"
    s3.copy_object(
        Bucket=bucket, Key="dst", CopySource=f"{bucket}/src", Metadata={"b": "2"}, MetadataDirective="REPLACE"
    )
    assert s3.head_object(Bucket=bucket, Key="dst")["Metadata"] == {"b": "2"}


def test_managed_multipart_upload_and_download_are_byte_identical(s3, bucket, tmp_path):
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(11 * MiB + 12345)
    src, dst = tmp_path / "big.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
    s3.upload_file(str(src), bucket, "big.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(data) and head["ETag"].strip('"').endswith("-3")  # three parts
    s3.download_file(bucket, "big.bin", str(dst), Config=cfg)
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_multipart_by_hand_list_parts_abort_and_errors(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="hand")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="hand", UploadId=up, PartNumber=1, Body=b"a" * (5 * MiB))["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="hand", UploadId=up, PartNumber=2, Body=b"tail")["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="hand", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * MiB), (2, 4)]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="hand",
            UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]},
        )
    assert _code(exc) == "InvalidPartOrder"
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="hand",
        UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    assert s3.get_object(Bucket=bucket, Key="hand", Range="bytes=-4")["Body"].read() == b"tail"
    gone = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=gone)
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="gone", UploadId=gone)
    assert _code(exc) == "NoSuchUpload"


def test_the_catalog_lists_the_root_of_s3s_own_port(aws_env, conn):
    from lab_helpers.backends.s3 import catalog_s3_endpoint

    assert catalog_s3_endpoint(conn) == aws_env["AWS_ENDPOINT_URL"]


def test_a_completed_upload_says_where_the_object_is(aws_env, s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="where/is it")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="where/is it", UploadId=up, PartNumber=1, Body=b"here")["ETag"]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="where/is it", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}
    )
    assert done["Location"] == f"{aws_env['AWS_ENDPOINT_URL']}/{bucket}/where/is%20it"


def test_the_old_path_on_the_main_port_still_answers(aws_env, sandbox, s3, bucket):
    """A client configured with ``<main port>/s3`` reaches the same buckets. On S3's own port a path that
    begins with ``/s3`` is a bucket's (this one is ``s3-lab``), never taken for the mount."""
    s3.put_object(Bucket=bucket, Key="s3/k", Body=b"root port")
    assert "s3/k" in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="s3/")["Contents"]]
    old = _client({**aws_env, "AWS_ENDPOINT_URL": f"{sandbox.base_url}/s3"})
    assert old.get_object(Bucket=bucket, Key="s3/k")["Body"].read() == b"root port"
    old.put_object(Bucket=bucket, Key="via-main", Body=b"main port")
    assert s3.get_object(Bucket=bucket, Key="via-main")["Body"].read() == b"main port"
    assert bucket in [b["Name"] for b in old.list_buckets()["Buckets"]]
    url = old.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "s3/k"}, ExpiresIn=60)
    assert url.startswith(f"{sandbox.base_url}/s3/{bucket}/s3/k?")
    assert requests.get(url, timeout=30).content == b"root port"
    old.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "s3/k"}, {"Key": "via-main"}]})
    assert s3.list_objects_v2(Bucket=bucket, Prefix="s3/")["KeyCount"] == 0


def test_resource_api(aws_env, bucket):
    res = boto3.resource(
        "s3",
        endpoint_url=aws_env["AWS_ENDPOINT_URL"],
        aws_access_key_id=aws_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws_env["AWS_SECRET_ACCESS_KEY"],
        region_name="IU",
    )
    b = res.Bucket("resource-lab")
    b.create()
    b.put_object(Key="r/one", Body=b"1")
    res.Object("resource-lab", "r/two").put(Body=b"22", Metadata={"n": "2"})
    assert sorted(o.key for o in b.objects.filter(Prefix="r/")) == ["r/one", "r/two"]
    assert res.Object("resource-lab", "r/two").metadata == {"n": "2"}
    b.objects.all().delete()
    assert list(b.objects.all()) == []
    b.delete()


def test_s3_put_reads_back_through_openstacksdk_with_metadata(s3, conn, bucket):
    s3.put_object(Bucket=bucket, Key="cross/s3.bin", Body=b"via S3", Metadata={"origin": "boto3"})
    assert conn.object_store.download_object("cross/s3.bin", container=bucket) == b"via S3"
    meta = conn.object_store.get_object_metadata("cross/s3.bin", container=bucket)
    assert meta.metadata.get("origin") == "boto3"


def test_swift_put_reads_back_through_s3_with_metadata(s3, conn):
    conn.object_store.create_container("from-swift")
    # A plain Swift PUT with its metadata header: openstacksdk 4's object resources share one class-level
    # metadata dict, so metadata= on upload_object would leak into every later object of this process.
    put = conn.object_store.put("/from-swift/doc.txt", data=b"via Swift", headers={"X-Object-Meta-Origin": "sdk"})
    assert put.status_code == 201
    got = s3.get_object(Bucket="from-swift", Key="doc.txt")
    assert got["Body"].read() == b"via Swift" and got["Metadata"] == {"origin": "sdk"}


def test_presigned_url_needs_no_credentials_and_expires(s3, bucket):
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"for anyone with the link")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=300)
    got = requests.get(url, timeout=30)
    assert got.status_code == 200 and got.content == b"for anyone with the link"
    tampered = url.replace("shared.txt", "notes/a.txt")
    bad = requests.get(tampered, timeout=30)
    assert bad.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in bad.content
    plain = requests.get(url.split("?")[0], timeout=30)
    assert plain.status_code == 403 and b"<Code>AccessDenied</Code>" in plain.content


def test_wrong_secret_and_unknown_key(aws_env, bucket):
    wrong = _client(aws_env, secret="not-the-secret")
    with pytest.raises(ClientError) as exc:
        wrong.list_objects_v2(Bucket=bucket)
    assert _code(exc) == "SignatureDoesNotMatch"
    unknown = _client(aws_env, access="0" * 32)
    with pytest.raises(ClientError) as exc:
        unknown.list_buckets()
    assert _code(exc) == "InvalidAccessKeyId"


def test_virtual_hosted_addressing(aws_env, s3, bucket, monkeypatch):
    """``<bucket>.localhost``: resolved to the loopback address here, as a resolver for .localhost does."""
    real = socket.getaddrinfo

    def loopback(host, *args, **kw):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", loopback)
    s3.put_object(Bucket=bucket, Key="vhost.txt", Body=b"virtual")
    endpoint = aws_env["AWS_ENDPOINT_URL"].replace("127.0.0.1", "localhost")
    seen = []
    vhost = _client({**aws_env, "AWS_ENDPOINT_URL": endpoint}, config=Config(s3={"addressing_style": "virtual"}))
    vhost.meta.events.register("before-send.s3", lambda request, **kw: seen.append(request.url))
    assert vhost.get_object(Bucket=bucket, Key="vhost.txt")["Body"].read() == b"virtual"
    assert seen and seen[0].startswith(f"http://{bucket}.localhost:")


def _signed(env, method, path, headers=None, body=b"", params=""):
    url = env["AWS_ENDPOINT_URL"] + path + (f"?{params}" if params else "")
    req = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    S3SigV4Auth(Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]), "s3", "IU").add_auth(req)
    return req


def test_fuzz_malformed_signed_requests_never_500(aws_env, bucket):
    rng = random.Random(1904)
    junk = ["", "\x00", "%", "%zz", "a" * 3000, "..", "/", "?", "é", "<x>", "&&", "=="]
    subresources = [
        "uploads",
        "uploadId=zz",
        "uploadId=",
        "partNumber=0&uploadId=1",
        "delete",
        "list-type=2",
        "continuation-token=@@@",
        "max-keys=-1",
        "acl",
        "location",
        "encoding-type=bogus",
    ]
    statuses = []
    for i in range(120):
        method = rng.choice(["GET", "PUT", "POST", "DELETE", "HEAD"])
        path = rng.choice(["", "/", f"/{bucket}", f"/{bucket}/k{i}", f"/{bucket}/{rng.choice(junk)}", "/x/y/z"])
        params = rng.choice(["", *subresources])
        body = rng.choice(
            [
                b"",
                b"<Delete><Object><Key>a</Key></Object></Delete>",
                b"<<<",
                os.urandom(64),
                b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>",
            ]
        )
        headers = rng.choice(
            [
                {},
                {"Range": "bytes=" + rng.choice(junk)},
                {"x-amz-copy-source": rng.choice(junk)},
                {"Content-MD5": rng.choice(junk)},
                {"x-amz-content-sha256": "STREAMING-X"},
                {"x-amz-copy-source-range": "bytes=9-1", "x-amz-copy-source": f"{bucket}/src"},
            ]
        )
        req = _signed(aws_env, method, path, headers=dict(headers), body=body, params=params)
        mangle = rng.random()
        if mangle < 0.2:
            req.headers["Authorization"] = req.headers["Authorization"].replace(
                "Credential=", "Credential=" + rng.choice(junk)
            )
        elif mangle < 0.3:
            req.headers["X-Amz-Date"] = rng.choice(junk) or "x"
        elif mangle < 0.4:
            req.headers["Authorization"] = rng.choice(junk) or "AWS4-HMAC-SHA256"
        prepared = req.prepare()
        try:
            got = requests.request(method, prepared.url, headers=dict(prepared.headers), data=body, timeout=30)
        except (requests.exceptions.InvalidURL, ValueError):
            continue
        statuses.append(got.status_code)
        assert got.status_code < 500 or got.status_code == 501, (method, path, params, headers, got.content[:300])
    assert len(statuses) > 80 and any(s < 300 for s in statuses) and any(s == 403 for s in statuses)


@pytest.mark.skipif(shutil.which("s3cmd") is None, reason="s3cmd (Debian's s3cmd package) is not installed")
def test_s3cmd_round_trip(aws_env, bucket, tmp_path):
    """s3cmd takes a host, not a URL (``host_base``): it reaches S3 only at the root of a port."""
    host = aws_env["AWS_ENDPOINT_URL"].removeprefix("http://")
    cfg = tmp_path / "s3cfg"
    cfg.write_text(
        "[default]\n"
        f"access_key = {aws_env['AWS_ACCESS_KEY_ID']}\nsecret_key = {aws_env['AWS_SECRET_ACCESS_KEY']}\n"
        f"host_base = {host}\nhost_bucket = {host}\nuse_https = False\nbucket_location = IU\n"
        "signature_v2 = False\n"
    )
    src = tmp_path / "in.txt"
    src.write_bytes(b"s3cmd was here")
    base = ["s3cmd", "-c", str(cfg)]

    def run(*args: str) -> str:
        done = subprocess.run([*base, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
        return done.stdout

    run("put", str(src), f"s3://{bucket}/s3cmd.txt")
    assert f"s3://{bucket}/s3cmd.txt" in run("ls", f"s3://{bucket}/")
    assert f"s3://{bucket}" in run("ls")  # the buckets
    out = tmp_path / "out.txt"
    run("get", f"s3://{bucket}/s3cmd.txt", str(out))
    assert out.read_bytes() == b"s3cmd was here"
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(6 * MiB))  # above --multipart-chunk-size-mb: a multipart upload of two parts
    run("put", "--multipart-chunk-size-mb=5", str(big), f"s3://{bucket}/s3cmd-big.bin")
    run("get", f"s3://{bucket}/s3cmd-big.bin", str(tmp_path / "big.out"))
    assert (tmp_path / "big.out").read_bytes() == big.read_bytes()
    run("del", f"s3://{bucket}/s3cmd.txt", f"s3://{bucket}/s3cmd-big.bin")
    assert "s3cmd.txt" not in run("ls", f"s3://{bucket}/")


@pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone (Debian's rclone package) is not installed")
def test_rclone_round_trip(aws_env, bucket, tmp_path):
    """rclone's S3 backend as Jetstream2's documentation configures it (provider Ceph), multipart included."""
    cfg = tmp_path / "rclone.conf"
    cfg.write_text(
        "[sandbox]\ntype = s3\nprovider = Ceph\nenv_auth = false\n"
        f"access_key_id = {aws_env['AWS_ACCESS_KEY_ID']}\nsecret_access_key = {aws_env['AWS_SECRET_ACCESS_KEY']}\n"
        f"endpoint = {aws_env['AWS_ENDPOINT_URL']}\nregion = IU\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}

    def run(*args: str) -> str:
        cmd = ["rclone", "--config", str(cfg), "--low-level-retries", "1", "--retries", "1", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, env=env)
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
        return done.stdout

    src = tmp_path / "in"
    src.mkdir()
    (src / "small.txt").write_bytes(b"rclone was here")
    (src / "big.bin").write_bytes(os.urandom(6 * MiB))  # above the cutoff below: a multipart upload
    run("copy", "--s3-upload-cutoff", "1M", "--s3-chunk-size", "5M", str(src), f"sandbox:{bucket}/rclone")
    assert sorted(run("lsf", f"sandbox:{bucket}/rclone").split()) == ["big.bin", "small.txt"]
    assert run("cat", f"sandbox:{bucket}/rclone/small.txt") == "rclone was here"
    run("check", str(src), f"sandbox:{bucket}/rclone", "--download")  # every byte read back and compared
    run("copyto", f"sandbox:{bucket}/rclone/big.bin", str(tmp_path / "big.out"))
    assert (tmp_path / "big.out").read_bytes() == (src / "big.bin").read_bytes()
    run("purge", f"sandbox:{bucket}/rclone")
    assert run("lsf", f"sandbox:{bucket}/rclone") == ""
