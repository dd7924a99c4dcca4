"""File uploads with their own size limit.

Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (``MAX_BODY_BYTES``) bounds JSON bodies and the
non-file fields of a form, but never the files in a multipart body. A route that takes a
file declares its own limit with :func:`upload_limit`; the limit is enforced while the body
is read (from ``Content-Length`` first, then byte by byte), before the file reaches the
view, and an oversized upload is answered 413.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest

FILE_TOO_LARGE = "The file is larger than the {limit} limit."


def human_size(size: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


class UploadTooLarge(RequestDataTooBig):
    """A file upload over its route's limit (413, with this message)."""

    def __init__(self, limit: int):
        self.message = FILE_TOO_LARGE.format(limit=human_size(limit))
        super().__init__(self.message)


class LimitedUploadHandler(FileUploadHandler):
    """Counts the bytes of every uploaded file and stops the upload past ``max_bytes``.

    Put first in ``request.upload_handlers``: it passes each chunk on to Django's own
    handlers (memory up to ``FILE_UPLOAD_MAX_MEMORY_SIZE``, then a temporary file), so
    the file never sits in memory whole.
    """

    def __init__(self, request: HttpRequest, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # The whole body: the files plus the usual allowance for the other fields.
        if content_length > self.max_bytes + settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise UploadTooLarge(self.max_bytes)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            raise UploadTooLarge(self.max_bytes)
        return raw_data

    def file_complete(self, file_size: int):
        return None


def upload_limit(setting: str) -> Callable:
    """``@decorate_view(upload_limit("IMPORT_MAX_BYTES"))`` on a ninja operation: the
    route's files may add up to ``settings.<setting>`` bytes (read at request time).

    ``decorate_view`` wraps the whole operation, so the handler is in place before
    ninja parses the body."""

    def decorator(run: Callable) -> Callable:
        @functools.wraps(run)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
            limit = getattr(settings, setting)
            request.upload_handlers.insert(0, LimitedUploadHandler(request, max_bytes=limit))
            return run(request, *args, **kwargs)

        return wrapper

    return decorator
