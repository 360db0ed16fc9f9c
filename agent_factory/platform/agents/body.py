"""Reading a spec from a request: JSON `{"spec": "…"}` or the raw Markdown (`text/markdown`)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import ValidationError

from ..errors import InvalidRequest, UnsupportedMediaType, validation_item
from ..fields import storable
from .schemas import SpecIn

MARKDOWN_TYPES = ("text/markdown", "text/plain")

# the OpenAPI request body of the endpoints that take a spec (the body is read by hand)
SPEC_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": SpecIn.model_json_schema()},
            "text/markdown": {"schema": {"type": "string", "minLength": 1}},
        },
    }
}


async def spec_text(request: Request) -> str:
    """The spec text of the request (422 for bad JSON, bad UTF-8 or NUL; 415 for other types)."""
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    body = await request.body()
    if media in MARKDOWN_TYPES:
        return _markdown(body)
    if media == "application/json":
        try:
            return SpecIn.model_validate_json(body).spec
        except ValidationError as error:
            raise InvalidRequest([validation_item(e) for e in error.errors()]) from None
    raise UnsupportedMediaType(f"send the spec as application/json ({{\"spec\": \"...\"}}) or text/markdown, not {media}")


def _markdown(body: bytes) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidRequest(f"the body is not UTF-8 (invalid byte 0x{body[error.start]:02x} at offset {error.start})") from None
    if not text.strip():
        raise InvalidRequest("the body is empty: send the spec's Markdown")
    try:
        return storable(text)
    except ValueError as error:
        raise InvalidRequest(str(error)) from None
