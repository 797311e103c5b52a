"""Errors endpoints raise; the HTTP and RPC layers map `code` to a status."""


class EndpointError(Exception):
    code = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequest(EndpointError):
    code = 400


class Forbidden(EndpointError):
    code = 403


class NotFound(EndpointError):
    code = 404


class Conflict(EndpointError):
    code = 409
