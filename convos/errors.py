"""Domain errors; the web layer turns them into the JSON error envelope."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ErrorItem:
    message: str
    path: str = "/"

    def to_dict(self) -> dict[str, str]:
        return {"message": self.message, "path": self.path}


class ConvosError(Exception):
    """Base error. `status` is the HTTP status the web layer answers with."""

    status = 500
    # Validation errors carry "status" in the body, like the original does.
    status_in_body = False

    def __init__(self, message: str = "", path: str = "/", *, errors: list[ErrorItem] | None = None):
        self.errors = errors if errors is not None else [ErrorItem(message, path)]
        super().__init__(self.errors[0].message if self.errors else message)

    @property
    def headers(self) -> dict[str, str]:
        """Extra HTTP headers of the answer (Retry-After, ...)."""
        return {}

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"errors": [e.to_dict() for e in self.errors]}
        if self.status_in_body:
            body["status"] = self.status
        return body


class InvalidInput(ConvosError):
    status = 400


class ValidationFailed(InvalidInput):
    """Request did not match the OpenAPI schema."""

    status_in_body = True


class Unauthorized(ConvosError):
    status = 401

    def __init__(self, message: str = "Need to log in first.", path: str = "/"):
        super().__init__(message, path)


class Forbidden(ConvosError):
    status = 403


class NotFound(ConvosError):
    status = 404


class Gone(ConvosError):
    status = 410


class PayloadTooLarge(ConvosError):
    status = 413


class UnsupportedMediaType(ConvosError):
    status = 415


class TooManyRequests(ConvosError):
    """Try again in `retry_after` seconds (sent as Retry-After)."""

    status = 429

    def __init__(self, message: str, path: str = "/", *, retry_after: int = 1):
        super().__init__(message, path)
        self.retry_after = max(1, int(retry_after))

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class FailedDependency(ConvosError):
    status = 424
    status_in_body = True


class NotImplementedYet(ConvosError):
    status = 501


class NotReady(ConvosError):
    status = 503
