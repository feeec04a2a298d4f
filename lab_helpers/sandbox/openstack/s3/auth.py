"""AWS Signature Version 4, checked against the EC2 credentials Keystone issued.

The expected signature is computed by botocore's own signer (``S3SigV4Auth`` for the
``Authorization`` header, ``S3SigV4QueryAuth`` for presigned URLs) from the request as received:
an ``AWSRequest`` carrying only the headers the client listed in ``SignedHeaders``, the path as
the client sent it (S3 does not normalise it), the decoded query parameters (botocore re-encodes
them the way the specification says) and the client's own ``X-Amz-Date`` as the signing time. The
signer then builds the same canonical request the client built, and the two signatures are
compared in constant time.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
import time
from typing import Any

from botocore.auth import UNSIGNED_PAYLOAD, S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ...api import Ctx
from .common import error, raw_path

SKEW_S = 15 * 60
MAX_EXPIRES_S = 7 * 24 * 3600
STREAMING = ("STREAMING-",)
_HEADER = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]+)\s*$"
)


def _malformed(message: str) -> Exception:
    return error(400, "AuthorizationHeaderMalformed", message)


def _scope(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not re.fullmatch(r"\d{8}", parts[1]):
        raise _malformed(
            "The authorization header is malformed; the Credential is mal-formed; expecting "
            '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
        )
    return parts[0], parts[1], parts[2], parts[3]


def _when(stamp: str, scope_date: str) -> float:
    try:
        t = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
    except (ValueError, OverflowError):
        raise error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header") from None
    if not stamp.startswith(scope_date):
        raise _malformed("The authorization header is malformed; the credential date does not match x-amz-date.")
    return float(t)


def _credential(ctx: Ctx, access: str) -> dict[str, Any]:
    cred = ctx.store.get("ec2", access[:128])
    if not cred:
        raise error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    return cred


def _aws_request(ctx: Ctx, signed: list[str], params: list[tuple[str, str]]) -> AWSRequest:
    headers = {}
    for name in signed:
        if name != "host" and name not in ctx.request.headers:
            raise error(403, "SignatureDoesNotMatch", f"The signed header {name!r} is not in the request.")
        headers[name] = ctx.request.headers.get(name, "") if name != "host" else ctx.request.host
    url = f"http://{ctx.request.host}{raw_path(ctx)}"
    req = AWSRequest(method=ctx.request.method, url=url, headers=headers)
    req.params = params  # botocore takes a list of pairs as well as a dict
    return req


def _check(ctx: Ctx, signer: S3SigV4Auth, req: AWSRequest, stamp: str, given: str) -> None:
    req.context["timestamp"] = stamp
    canonical = signer.canonical_request(req)
    expected = signer.signature(signer.string_to_sign(req, canonical), req)
    if not hmac.compare_digest(expected, given.lower()):
        raise error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )


def _token(cred: dict[str, Any]) -> dict[str, Any]:
    return {"project_id": cred["tenant_id"], "user_id": cred["user_id"], "roles": ["member", "reader"]}


def authenticate(ctx: Ctx) -> None:
    """Set ``ctx.token`` from a valid SigV4 header or presigned query, else raise S3's 403/400."""
    args = ctx.request.args
    if "X-Amz-Credential" in args or "X-Amz-Signature" in args:
        return _presigned(ctx)
    header = ctx.request.headers.get("Authorization", "")
    if not header:
        raise error(403, "AccessDenied", "Anonymous access is not allowed; sign the request with EC2 credentials.")
    if not header.startswith("AWS4-HMAC-SHA256"):
        raise error(400, "InvalidRequest", "The sandbox accepts only AWS Signature Version 4 (AWS4-HMAC-SHA256).")
    m = _HEADER.fullmatch(header.strip())
    if not m:
        raise _malformed("The authorization header is malformed.")
    access, date, region, service = _scope(m[1])
    cred = _credential(ctx, access)
    stamp = ctx.request.headers.get("X-Amz-Date", "")
    if not stamp:
        raise error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
    when = _when(stamp, date)
    if abs(time.time() - when) > SKEW_S:
        raise error(
            403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."
        )
    payload = ctx.request.headers.get("X-Amz-Content-SHA256")
    if payload is None:
        raise error(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
    signed = [h for h in m[2].lower().split(";") if h]
    if "host" not in signed:
        raise _malformed("The authorization header is malformed; SignedHeaders must include host.")
    params = [(k, v) for k, v in args.items(multi=True)]
    req = _aws_request(ctx, signed, params)
    signer = S3SigV4Auth(Credentials(access, cred["secret"]), service, region)
    if "x-amz-content-sha256" not in signed:
        raise _malformed("The authorization header is malformed; x-amz-content-sha256 must be signed.")
    _check(ctx, signer, req, stamp, m[3])
    ctx.token = _token(cred)
    _check_payload(ctx, payload)


def _check_payload(ctx: Ctx, declared: str) -> None:
    """The body's SHA-256 against the signed ``x-amz-content-sha256`` (a hex digest only)."""
    if declared == UNSIGNED_PAYLOAD or declared.startswith(STREAMING):
        return
    if not re.fullmatch(r"[0-9a-fA-F]{64}", declared):
        raise error(
            400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a hex SHA-256."
        )
    if hashlib.sha256(ctx.request.get_data(cache=True)).hexdigest() != declared.lower():
        raise error(
            400,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )


def _presigned(ctx: Ctx) -> None:
    args = ctx.request.args
    needed = (
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    )
    missing = [k for k in needed if k not in args]
    if missing:
        raise error(400, "AuthorizationQueryParametersError", f"Query-string authentication requires {missing[0]}.")
    if args["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise error(400, "AuthorizationQueryParametersError", 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    access, date, region, service = _scope(args["X-Amz-Credential"])
    cred = _credential(ctx, access)
    stamp = args["X-Amz-Date"]
    when = _when(stamp, date)
    expires = args["X-Amz-Expires"]
    if not expires.isdigit() or int(expires) > MAX_EXPIRES_S:
        raise error(
            400,
            "AuthorizationQueryParametersError",
            "X-Amz-Expires must be a number of seconds up to 604800 (seven days).",
        )
    if time.time() > when + int(expires):
        raise error(403, "AccessDenied", "Request has expired")
    if not re.fullmatch(r"[0-9a-fA-F]+", args["X-Amz-Signature"]):
        raise error(400, "AuthorizationQueryParametersError", "X-Amz-Signature must be hexadecimal.")
    signed = [h for h in args["X-Amz-SignedHeaders"].lower().split(";") if h]
    params = [(k, v) for k, v in args.items(multi=True) if k != "X-Amz-Signature"]
    req = _aws_request(ctx, signed, params)
    signer = S3SigV4QueryAuth(Credentials(access, cred["secret"]), service, region)
    _check(ctx, signer, req, stamp, args["X-Amz-Signature"])
    ctx.token = _token(cred)
