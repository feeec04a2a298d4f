"""S3 as the sandbox mounts it: at the root of its own port and under ``/s3`` of the main one, AWS
Signature Version 4 against Keystone's EC2 credentials, S3's XML errors, RadosGW-shaped request ids.
Object data and parts stream without a limit; other bodies (the XML of CompleteMultipartUpload,
DeleteObjects) get a generous one."""

from __future__ import annotations

from werkzeug.wrappers import Request

from ...api import ErrorStyle, Service
from . import router
from .auth import authenticate
from .common import error, stamp
from .constants import PREFIX

MAX_XML_BODY = 16 * 1024 * 1024


def body_limit(request: Request) -> int | None:
    if request.method == "PUT":
        return None
    return MAX_XML_BODY


S3_ERRORS = ErrorStyle(error=lambda status, message, kind: error(status, kind, message))

SERVICE = Service(
    "s3",
    PREFIX,
    (router.routes,),
    S3_ERRORS,
    authenticate=authenticate,
    stamp=stamp,
    body_limit=body_limit,
)
