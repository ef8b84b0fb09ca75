"""One error format for the API: {"detail": "..."} or {"field": ["..."]}.

Services raise Django's ValidationError or a DomainError (a refused operation, 409);
this handler turns them into DRF responses. Anything else is a bug and stays a 500.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """A request that is well-formed but refused by a business rule (HTTP 409)."""

    status_code = status.HTTP_409_CONFLICT

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response({"detail": exc.detail}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    # Errors that are not about one field come as {"detail": "…"}, a sentence, never a list
    # (NON_FIELD_ERRORS_KEY is "detail").
    if isinstance(response.data, list):
        response.data = {"detail": _sentence(response.data)}
    elif isinstance(response.data, dict) and isinstance(response.data.get("detail"), list):
        response.data["detail"] = _sentence(response.data["detail"])
    return response


def _sentence(items: list[Any]) -> str:
    return " ".join(str(item) for item in items)


def _django_validation_detail(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        details: dict[str, Any] = dict(exc.message_dict)
        if "__all__" in details:
            details["detail"] = _sentence(details.pop("__all__"))
        return details
    return {"detail": _sentence(exc.messages)}


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """An address no route matches: under /api/ in the API's error format (a client reads
    JSON whatever the path it got wrong), elsewhere the page for people."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found: no API operation at this address."}, status=404)
    from accounts.views import page_not_found as page

    return page(request, exception)
