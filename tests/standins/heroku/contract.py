"""Heroku's published Platform API hyperschema, as the stand-in's contract.

Every request the stand-in answers is matched to a link of the schema (method and href
template). Its JSON body is checked against the link's ``schema`` (and may carry no property
the schema does not name), and the stand-in's own answer against the link's ``targetSchema``,
with every property of a ``strictProperties`` definition present, as Heroku returns them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / "platform-api.json"
HREF_VARIABLE = re.compile(r"\{\([^)]*\)\}")


class ContractError(Exception):
    """A request or an answer that does not follow the published schema."""


@dataclass(frozen=True)
class Link:
    """One endpoint of the schema: a method and an href template."""

    method: str
    href: str
    pattern: re.Pattern[str]
    request: dict[str, Any] | None
    target: dict[str, Any] | None


class Contract:
    def __init__(self, path: Path = SCHEMA_FILE) -> None:
        self.root: dict[str, Any] = json.loads(path.read_text())
        resource = Resource.from_contents(self.root, default_specification=DRAFT4)
        registry: Registry[Any] = resource @ Registry()
        self.resolver = registry.resolver(base_uri=resource.id() or "")
        self.validator = Draft4Validator(self.root, registry=registry)
        definitions = self.root["definitions"].values()
        self.links = [self._link(link) for entry in definitions for link in entry.get("links", [])]

    @staticmethod
    def _link(link: dict[str, Any]) -> Link:
        parts = HREF_VARIABLE.split(link["href"])
        pattern = "[^/]+".join(re.escape(unquote(part)) for part in parts)
        return Link(
            method=link["method"],
            href=unquote(link["href"]),
            pattern=re.compile(f"^{pattern}$"),
            request=link.get("schema"),
            target=link.get("targetSchema"),
        )

    def link(self, method: str, path: str) -> Link:
        """The schema link for a request; a request the schema has no link for is a contract error."""
        found = [link for link in self.links if link.method == method and link.pattern.match(path)]
        if not found:
            raise ContractError(f"{method} {path} is not an endpoint of the Platform API schema")
        # A literal segment (/apps/{app}/formation) wins over a variable one (/apps/{app}/{x}).
        return min(found, key=lambda link: link.href.count("{"))

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.resolver.lookup(schema["$ref"]).contents
        return schema

    def _errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        errors: list[ValidationError] = sorted(
            self.validator.evolve(schema=schema).iter_errors(instance), key=lambda e: list(e.path)
        )
        return [f"{'/'.join(str(p) for p in error.path) or '(body)'}: {error.message}" for error in errors]

    def check_request(self, link: Link, body: Any) -> None:
        if link.request is None:
            if body not in (None, {}):
                raise ContractError(f"{link.method} {link.href} takes no body")
            return
        schema = self.resolve(link.request)
        problems = self._errors(schema, body)
        if isinstance(body, dict) and "properties" in schema:
            problems += [f"{key}: not a parameter of this endpoint" for key in body if key not in schema["properties"]]
        if problems:
            raise ContractError("; ".join(problems))

    def check_answer(self, link: Link, answer: Any) -> None:
        if link.target is None:
            return
        schema = self.resolve(link.target)
        problems = self._errors(schema, answer)
        items = answer if isinstance(answer, list) else [answer]
        shape = self.resolve(schema["items"]) if "items" in schema else schema
        for item in items:
            problems += self._shape(shape, item)
        if problems:
            raise ContractError(f"answer to {link.method} {link.href}: " + "; ".join(problems))

    @staticmethod
    def _shape(definition: dict[str, Any], item: Any) -> list[str]:
        """Heroku answers with exactly the properties a resource defines."""
        if not isinstance(item, dict) or "properties" not in definition:
            return []
        known = set(definition["properties"])
        problems = [f"{key}: not a property of the resource" for key in sorted(set(item) - known)]
        if definition.get("strictProperties"):
            problems += [f"{key}: missing" for key in sorted(known - set(item))]
        return problems
