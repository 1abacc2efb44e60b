"""The gateway's answers held to its own OpenAPI document: each JSON answer must fit the schema
documented for its operation, status and content type (``default`` where the status has none)."""

import re

from openapi_schema_validator import OAS30Validator

JSON_TYPES = ("application/json", "application/problem+json")
METHODS = ("get", "post", "put", "patch", "delete")


class Contract:
    def __init__(self, spec: dict):
        self.spec = spec
        routes = []
        for path, item in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
            routes += [(path.count("{"), pattern, method.upper(), operation) for method, operation in item.items()]
        # a literal segment wins over a parameter (/cases/review-queue before /cases/{case_id})
        self.routes = [route[1:] for route in sorted(routes, key=lambda route: route[0]) if route[2].lower() in METHODS]

    def operation(self, method: str, path: str) -> dict | None:
        return next((op for pattern, m, op in self.routes if m == method and pattern.match(path)), None)

    def errors(self, method: str, path: str, status: int, content_type: str, body) -> list[str]:
        """What is wrong with an answer; nothing for an operation the document does not have."""
        operation = self.operation(method, path)
        media_type = (content_type or "").split(";")[0].strip()
        if operation is None or media_type not in JSON_TYPES:
            return []
        response = operation["responses"].get(str(status)) or operation["responses"].get("default")
        if "$ref" in response:
            response = self.spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        media = (response.get("content") or {}).get(media_type) or (response.get("content") or {}).get("*/*")
        if media is None:
            return [f"{method} {path} {status}: {media_type} is not documented"]
        root = {"allOf": [media["schema"]], "components": self.spec["components"]}
        found = OAS30Validator(root).iter_errors(body)
        return [f"{method} {path} {status} at {list(e.absolute_path)}: {e.message[:300]}" for e in found]

    def hook(self, response, *args, **kwargs):
        """A ``requests`` response hook that fails the request whose answer breaks the contract."""
        if kwargs.get("stream") or not response.content:
            return
        try:
            body = response.json()
        except ValueError:
            return
        path = response.request.path_url.split("?", 1)[0]
        found = self.errors(
            response.request.method, path, response.status_code, response.headers.get("Content-Type"), body
        )
        assert not found, "the answer breaks the OpenAPI document:\n" + "\n".join(found)
