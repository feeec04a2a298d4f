"""Error bodies shaped like each real service's, so openstacksdk raises the same exceptions.

Nova and Cinder: ``{"itemNotFound": {"code": 404, "message": ...}}``; Neutron:
``{"NeutronError": {"type": ..., "message": ..., "detail": ""}}``; Keystone and the token
middleware in front of every service: ``{"error": {"code", "title", "message"}}``; Swift: a
short HTML page. Handlers raise :class:`ApiError`; the server turns it into the response.
"""

from __future__ import annotations

import json

from werkzeug.wrappers import Response

NOVA_KEYS = {
    400: "badRequest",
    403: "forbidden",
    404: "itemNotFound",
    405: "HTTPMethodNotAllowed",
    409: "conflictingRequest",
    413: "overLimit",
    500: "computeFault",
    501: "notImplemented",
}
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    411: "Length Required",
    413: "Request Entity Too Large",
    416: "Requested Range Not Satisfiable",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
}
SWIFT_TEXT = {
    401: "This server could not verify that you are authorized to access the document you requested.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    409: "There was a conflict when trying to complete your request.",
    411: "Missing Content-Length header.",
    416: "The Range requested is not available.",
    422: "Unable to process the contained instruction",
    400: "The request could not be understood.",
}


class ApiError(Exception):
    """Raised by a handler; carries the response the real service would have sent."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def json_response(body, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def nova(status: int, message: str) -> ApiError:
    """Nova's and Cinder's fault body."""
    key = NOVA_KEYS.get(status, "computeFault")
    body = {key: {"code": status, "message": message}}
    if status == 413:
        body[key]["retryAfter"] = "0"
    return ApiError(json_response(body, status))


def neutron(status: int, kind: str, message: str) -> ApiError:
    return ApiError(json_response({"NeutronError": {"type": kind, "message": message, "detail": ""}}, status))


def glance(status: int, message: str) -> ApiError:
    """Glance answers with a small HTML page, like the WSGI apps it is built on."""
    title = TITLES.get(status, "Error")
    text = (
        f"<html>\n <head>\n  <title>{status} {title}</title>\n </head>\n <body>\n"
        f"  <h1>{status} {title}</h1>\n  {message}<br /><br />\n\n\n\n </body>\n</html>"
    )
    return ApiError(Response(text, status=status, content_type="text/html; charset=UTF-8"))


def keystone(status: int, message: str) -> ApiError:
    body = {"error": {"code": status, "title": TITLES.get(status, "Error"), "message": message}}
    return ApiError(json_response(body, status))


def unauthorized(auth_url: str) -> ApiError:
    """What keystonemiddleware answers for a missing, wrong or expired token."""
    err = keystone(401, "The request you have made requires authentication.")
    err.response.headers["WWW-Authenticate"] = f'Keystone uri="{auth_url}"'
    return err


def swift(status: int) -> ApiError:
    title = TITLES.get(status, "Error")
    text = f"<html><h1>{title}</h1><p>{SWIFT_TEXT.get(status, title)}</p></html>"
    return ApiError(Response(text, status=status, content_type="text/html; charset=UTF-8"))
