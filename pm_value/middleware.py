"""Refuses request bodies over MAX_REQUEST_BYTES with 413 before anything reads them."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


class RequestSizeLimitMiddleware:
    """DRF parses JSON from the raw stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    check, so the limit is enforced here on the declared Content-Length for every path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(request, 400, "The Content-Length header is not a number.")
        if length > limit:
            return _refuse(
                request,
                413,
                f"The request body is {length:,} bytes; the limit is {limit:,} bytes.",
            )
        return self.get_response(request)


def _refuse(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail}, status=status)
    # A person in the browser: the page says what happened and that nothing was saved.
    return render(request, "request_refused.html", {"detail": detail}, status=status)
