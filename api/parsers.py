"""The only body the API reads: JSON, at most API_MAX_BODY_BYTES, made of text a database keeps.

Django bounds `request.body` (DATA_UPLOAD_MAX_MEMORY_SIZE) but DRF's parsers read the stream
directly, past that bound; this parser reads at most the limit and refuses the rest.
"""

import json

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class RequestTooLarge(APIException):
    # Here, not in api.errors: DRF's settings import this module while api.errors is importing
    # DRF's views, so an import of api.errors from here would be circular.
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is too large."


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _bad_text(value):
    """Why `value` cannot be stored as text ("" when it can)."""
    if "\x00" in value:
        return "Text may not contain NUL characters (\\u0000)."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Text may not contain unpaired surrogates (\\ud800-\\udfff)."
    return ""


def check_text(document):
    """Raise ParseError when any string or key of `document` cannot be stored (walked without
    recursion, so no depth of nesting can exhaust the stack)."""
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            texts = [item]
        elif isinstance(item, dict):
            texts = list(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            texts = []
            pending.extend(item)
        else:
            continue
        for text in texts:
            if problem := _bad_text(text):
                raise ParseError(problem)


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            document = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as error:
            raise ParseError(f"The body is not valid JSON: {error}") from None
        check_text(document)
        return document
