"""OpenAPI: every operation documents the errors it can answer, in the one error format."""

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="What went wrong, in words.")


VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Field errors: each invalid field maps to a list of messages; an error that is not "
        "about one field comes under `detail`."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}

BODY_METHODS = {"POST", "PUT", "PATCH"}

ERRORS = {
    "400": "Invalid input or query parameters; nothing was written.",
    "401": "No credentials, or an API token that is unknown, revoked or expired.",
    "403": "Your role or a read-only token does not allow this, or the CSRF token is missing.",
    "404": "No such object in this workspace, or no workspace with this slug for you.",
    "413": "The request body is larger than the limit.",
    "415": "The request body is not JSON.",
    "429": "Too many requests; retry after the seconds in the Retry-After header.",
}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        codes = ["400", "401", "403", "429"]
        if "{" in self.path:
            codes.append("404")
        if self.method in BODY_METHODS:
            codes += ["413", "415"]
        for code in codes:
            if code not in responses:
                schema = VALIDATION_ERROR_SCHEMA if code == "400" else ErrorSerializer
                response = OpenApiResponse(response=schema, description=ERRORS[code])
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return dict(sorted(responses.items()))
