"""The OpenAPI 2.0 document and request validation with JSON::Validator's error texts."""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson

from convos.core.user import valid_email
from convos.errors import ErrorItem, ValidationFailed

SPEC_PATH = Path(__file__).resolve().parents[2] / "share" / "convos-api.json"
AUTH_LEVELS = frozenset({"public", "login", "admin"})
MAX_DEPTH = 64  # deeper JSON bodies are refused before any schema walk
MAX_ERRORS = 100  # a hostile body must not turn into a multi-megabyte error response
# The largest request body an operation reads: `x-convos-max-body` of the operation, else of the
# document, else this. The name of a setting (only CONVOS_MAX_UPLOAD_SIZE) may stand for a number.
DEFAULT_MAX_BODY = 65536
MAX_BODY_SETTINGS = frozenset({"CONVOS_MAX_UPLOAD_SIZE"})

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
# Keywords the validator understands; anything else in a request schema is refused at load time,
# so the document cannot promise a check that silently never happens.
_CHECKED = frozenset(
    ["type", "format", "enum", "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "items", "minItems", "maxItems", "properties", "required", "additionalProperties", "x-nullable"]
)
_ANNOTATIONS = frozenset(["description", "title", "default", "example", "readOnly", "name", "in", "collectionFormat", "schema"])
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})
_SEPARATORS = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|"}
_INT_RE = re.compile(r"[-+]?\d+", re.ASCII)
_NUM_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)
_DATE_TIME_RE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-](\d\d):(\d\d))?", re.ASCII
)
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:", re.ASCII)


def valid_date_time(value: str) -> bool:
    """RFC 3339 date-time; the zone is optional because Convos' own timestamps have none."""
    m = _DATE_TIME_RE.fullmatch(value)
    if m is None:
        return False
    year, month, day, hour, minute, second = (int(x) for x in m.group(1, 2, 3, 4, 5, 6))
    if year < 1 or not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    if hour > 23 or minute > 59 or second > 59:
        return False
    return m.group(7) is None or (int(m.group(7)) <= 23 and int(m.group(8)) <= 59)


def valid_uri(value: str) -> bool:
    """Absolute URI: a scheme, and no whitespace or control characters anywhere."""
    if _SCHEME_RE.match(value) is None:
        return False
    return not any(c.isspace() or ord(c) < 32 or 127 <= ord(c) < 160 for c in value)


_FORMATS = {"email": valid_email, "date-time": valid_date_time, "uri": valid_uri}


@dataclass(slots=True)
class Operation:
    operation_id: str
    method: str
    path: str
    parameters: list[dict[str, Any]]
    body_schema: dict[str, Any] | None
    auth: str
    consumes: list[str]
    body_required: bool = False
    max_body: int | str = DEFAULT_MAX_BODY


class _Errors:
    """Collects errors up to MAX_ERRORS."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[ErrorItem] = []

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_ERRORS

    def add(self, message: str, path: str) -> None:
        if not self.full:
            self.items.append(ErrorItem(message, path))


class ApiSpec:
    """The API document plus its operations, ready for request validation."""

    def __init__(self, doc: dict[str, Any]):
        self.doc = doc
        self.operations: list[Operation] = _operations(doc)
        self.by_id: dict[str, Operation] = {op.operation_id: op for op in self.operations}

    @classmethod
    def load(cls, path: str | Path = SPEC_PATH) -> ApiSpec:
        return cls(orjson.loads(Path(path).read_bytes()))

    def operation(self, operation_id: str) -> Operation:
        return self.by_id[operation_id]

    def for_request(self, host: str, base_path: str, scheme: str) -> dict[str, Any]:
        """Shallow copy of the document for `GET /api`: nested objects are shared, do not mutate."""
        doc = dict(self.doc)
        doc["host"] = host
        doc["basePath"] = base_path.rstrip("/") + "/api"
        doc["schemes"] = [scheme]
        return doc

    def validate(
        self,
        op: Operation,
        path_params: Mapping[str, str],
        query: Mapping[str, Any],
        body: bytes | None = None,
        content_type: str = "",
    ) -> dict[str, Any]:
        """Coerced input by parameter name (+ "body"); raises ValidationFailed with every error found."""
        errors = _Errors()
        out: dict[str, Any] = {}
        mime = content_type.split(";", 1)[0].strip().lower()
        form: Any = None
        if any(p["in"] == "formData" for p in op.parameters) and mime != "multipart/form-data":
            # multipart is parsed by the upload handler itself; urlencoded fields are checked here
            text = (body or b"").decode("utf-8", "replace")
            form = _MultiList(parse_qsl(text, keep_blank_values=True)) if mime.endswith("urlencoded") else {}
        for param in op.parameters:
            where, name = param["in"], param["name"]
            if where == "path":
                raw = [path_params[name]] if name in path_params else []
            elif where == "query":
                raw = _getall(query, name)
            elif where == "formData" and form is not None:
                raw = _getall(form, name)
            else:
                continue  # body is handled below, headers are not described
            if not raw:
                if "default" in param:
                    out[name] = param["default"]
                elif param.get("required"):
                    errors.add("Missing property.", "/" + name)
                continue
            value = _from_strings(raw, param, "/" + name, errors)
            if value is not _INVALID:
                out[name] = value
        if op.body_schema is not None:
            _validate_body(op.body_schema, op.body_required, body, errors, out)
        if errors.items:
            raise ValidationFailed(errors=errors.items)
        return out


class _MultiList:
    """Minimal getall() view over parsed form pairs."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs

    def getall(self, key: str, default: list[str]) -> list[str]:
        return [v for k, v in self.pairs if k == key] or default


_INVALID = object()


def _getall(query: Any, name: str) -> list[str]:
    if hasattr(query, "getall"):
        return list(query.getall(name, []))
    return [query[name]] if name in query else []


def _from_strings(raw: list[str], param: dict[str, Any], path: str, errors: _Errors) -> Any:
    """Coerce query/path/form strings to the declared type, then apply the other keywords."""
    kind = param.get("type", "string")
    if kind == "file":
        return raw[-1]
    if kind == "array":
        fmt = param.get("collectionFormat", "csv")
        items = raw if fmt == "multi" else (raw[-1].split(_SEPARATORS[fmt]) if raw[-1] else [])
        item_schema = param.get("items", {})
        values = []
        for i, item in enumerate(items):
            v = _scalar_from_string(item, item_schema.get("type", "string"))
            if v is _INVALID:
                errors.add(f"Expected {item_schema.get('type')} - got string.", f"{path}/{i}")
            values.append(v)
        if any(v is _INVALID for v in values):
            return _INVALID
        return _check(values, param, path, errors, coerce=False)
    value = _scalar_from_string(raw[-1], kind)  # like Mojolicious, the last value wins
    if value is _INVALID:
        errors.add(f"Expected {kind} - got string.", path)
        return _INVALID
    return _check(value, param, path, errors, coerce=False)


def _scalar_from_string(text: str, kind: str) -> Any:
    if kind == "integer":
        return _to_int(text)
    if kind == "number":
        return _to_number(text)
    if kind == "boolean":
        low = text.strip().lower()
        return True if low in _TRUE else False if low in _FALSE else _INVALID
    return text


def _to_int(text: str) -> Any:
    if _INT_RE.fullmatch(text) is None:
        return _INVALID
    try:
        return int(text)
    except ValueError:  # more digits than int() agrees to convert
        return _INVALID


def _to_number(text: str) -> Any:
    if _INT_RE.fullmatch(text):
        return _to_int(text)
    if _NUM_RE.fullmatch(text) is None:
        return _INVALID
    number = float(text)
    return number if math.isfinite(number) else _INVALID


def _validate_body(
    schema: dict[str, Any], required: bool, body: bytes | None, errors: _Errors, out: dict[str, Any]
) -> None:
    if not body or not body.strip():
        if required:
            errors.add("Missing property.", "/body")
        return
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:  # also invalid UTF-8 and lone surrogates
        # Parsers differ on how deep they go before they give up (and say so in their own words),
        # so the depth of a refused body is measured here, on its bytes.
        errors.add("Too deeply nested." if _raw_too_deep(body, MAX_DEPTH) else "Invalid JSON.", "/body")
        return
    if _too_deep(data, MAX_DEPTH):
        errors.add("Too deeply nested.", "/body")
        return
    out["body"] = _check(data, schema, "/body", errors, coerce=True)


# A JSON string, or an unterminated one up to the end: possessive, so every byte is read once.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:\\)?(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")


def _raw_too_deep(body: bytes, limit: int) -> bool:
    """Whether the brackets of a (possibly malformed) JSON text nest deeper than `limit`.

    Strings are cut out, then each round removes the innermost empty pairs: one level a round.
    """
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        reduced = _EMPTY_PAIR.sub(b"", brackets)
        if len(reduced) == len(brackets):  # unbalanced: plain invalid JSON
            return False
        brackets = reduced
    return bool(brackets) and _EMPTY_PAIR.search(brackets) is not None


def _too_deep(data: Any, limit: int) -> bool:
    """Iterative, so a hostile body cannot exhaust the Python stack."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _as_type(value: Any, kind: str, coerce: bool) -> Any:
    """`value` as `kind`, or _INVALID. With `coerce`, do what JSON::Validator's OpenAPI coercion does,
    except that a number never passes for a string (`roles: [0]` is a mistake, not the role "0")."""
    is_num = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "string":
        return value if isinstance(value, str) else _INVALID
    if kind == "integer":
        if isinstance(value, float):  # orjson turns integers beyond 64 bits into floats
            return int(value) if value.is_integer() and abs(value) < 2**53 else _INVALID
        if is_num:
            return value
        return _to_int(value) if coerce and isinstance(value, str) else _INVALID
    if kind == "number":
        if is_num:
            return value
        return _to_number(value) if coerce and isinstance(value, str) else _INVALID
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if coerce and (value in ("true", "1", 1) or value in ("false", "0", 0)):
            return value in ("true", "1", 1)
        return _INVALID
    if kind == "array":
        return value if isinstance(value, list) else _INVALID
    if kind == "object":
        return value if isinstance(value, dict) else _INVALID
    if kind == "null":
        return value if value is None else _INVALID
    return value  # unknown type names ("file") constrain nothing here


def _check(value: Any, schema: dict[str, Any], path: str, errors: _Errors, coerce: bool) -> Any:
    """Validate `value` against `schema`; returns the (coerced) value."""
    if value is None and schema.get("x-nullable"):
        return None
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        for kind in kinds:
            typed = _as_type(value, kind, coerce=False)
            if typed is not _INVALID:
                break
        else:
            typed = _INVALID
            for kind in kinds if coerce else ():
                typed = _as_type(value, kind, coerce=True)
                if typed is not _INVALID:
                    break
        if typed is _INVALID:
            errors.add(f"Expected {', '.join(kinds)} - got {_type_name(value)}.", path)
            return value
        value = typed
    if "enum" in schema and not any(_same(value, e) for e in schema["enum"]):
        errors.add("Not in enum list: " + ", ".join(_enum_text(e) for e in schema["enum"]) + ".", path)
    if isinstance(value, str):
        _check_string(value, schema, path, errors)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_number(value, schema, path, errors)
    elif isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.add(f"Not enough items: {len(value)}/{schema['minItems']}.", path)
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.add(f"Too many items: {len(value)}/{schema['maxItems']}.", path)
        if "items" in schema:
            for i, item in enumerate(value):
                if errors.full:
                    break
                value[i] = _check(item, schema["items"], f"{path}/{i}", errors, coerce)
    elif isinstance(value, dict):
        _check_object(value, schema, path, errors, coerce)
    return value


def _check_string(value: str, schema: dict[str, Any], path: str, errors: _Errors) -> None:
    length = len(value)  # code points, like Perl's length() on decoded text
    if "minLength" in schema and length < schema["minLength"]:
        errors.add(f"String is too short: {length}/{schema['minLength']}.", path)
    if "maxLength" in schema and length > schema["maxLength"]:
        errors.add(f"String is too long: {length}/{schema['maxLength']}.", path)
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        errors.add(f"String does not match {schema['pattern']}.", path)
    check = _FORMATS.get(schema.get("format", ""))
    if check is not None and not check(value):
        errors.add(f"Does not match {schema['format']} format.", path)


def _check_number(value: float, schema: dict[str, Any], path: str, errors: _Errors) -> None:
    if "minimum" in schema:
        low = schema["minimum"]
        if value < low or (schema.get("exclusiveMinimum") and value == low):
            op = "<=" if schema.get("exclusiveMinimum") else "<"
            errors.add(f"{_num(value)} {op} minimum({_num(low)})", path)
    if "maximum" in schema:
        high = schema["maximum"]
        if value > high or (schema.get("exclusiveMaximum") and value == high):
            op = ">=" if schema.get("exclusiveMaximum") else ">"
            errors.add(f"{_num(value)} {op} maximum({_num(high)})", path)


def _check_object(
    value: dict[str, Any], schema: dict[str, Any], path: str, errors: _Errors, coerce: bool
) -> None:
    for name in schema.get("required", ()):
        if name not in value:
            errors.add("Missing property.", f"{path}/{_pointer(name)}")
    props = schema.get("properties", {})
    for name, sub in props.items():
        if errors.full:
            return
        if name in value:
            value[name] = _check(value[name], sub, f"{path}/{_pointer(name)}", errors, coerce)
    extra = schema.get("additionalProperties", True)
    if extra is True:
        return
    others = [k for k in value if k not in props]
    if extra is False:
        if others:
            errors.add("Properties not allowed: " + ", ".join(sorted(others)) + ".", path)
        return
    for name in others:
        if errors.full:
            return
        value[name] = _check(value[name], extra, f"{path}/{_pointer(name)}", errors, coerce)


def _same(value: Any, expected: Any) -> bool:
    if isinstance(value, bool) or isinstance(expected, bool):  # True == 1 in Python, not in JSON
        return value is expected
    return bool(value == expected)


def _enum_text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _num(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # Perl prints 5.0 as 5
    return str(value)


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _max_body(value: Any, op_id: str) -> int | str:
    if value in MAX_BODY_SETTINGS or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value  # type: ignore[no-any-return]
    raise ValueError(f"{op_id}: x-convos-max-body must be a positive integer or one of {sorted(MAX_BODY_SETTINGS)}")


def _operations(doc: dict[str, Any]) -> list[Operation]:
    ops = []
    default_max_body = doc.get("x-convos-max-body", DEFAULT_MAX_BODY)
    for path, item in doc.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            spec = item.get(method)
            if spec is None:
                continue
            params: dict[tuple[str, str], dict[str, Any]] = {}
            for raw in [*shared, *spec.get("parameters", [])]:
                p = _resolve(doc, raw, ())
                params[(p["in"], p["name"])] = p  # operation level wins over path level
            body = next((p for p in params.values() if p["in"] == "body"), None)
            auth = spec.get("x-convos-auth")
            if auth not in AUTH_LEVELS:
                raise ValueError(
                    f"{spec.get('operationId')}: x-convos-auth must be one of {sorted(AUTH_LEVELS)}"
                )
            op = Operation(
                operation_id=spec["operationId"],
                method=method.upper(),
                path=path,
                parameters=list(params.values()),
                body_schema=body["schema"] if body else None,
                auth=auth,
                consumes=list(spec.get("consumes", doc.get("consumes", []))),
                body_required=bool(body and body.get("required")),
                max_body=_max_body(spec.get("x-convos-max-body", default_max_body), spec.get("operationId", path)),
            )
            for p in op.parameters:
                _assert_supported(p.get("schema", p), op.operation_id)
            ops.append(op)
    return ops


def _resolve(doc: dict[str, Any], node: Any, seen: tuple[str, ...]) -> Any:
    """Inline every local `$ref` so validation never needs the document; refuses cycles."""
    if isinstance(node, list):
        return [_resolve(doc, n, seen) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise ValueError(f"Unsupported or circular $ref: {ref}")
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return _resolve(doc, target, (*seen, ref))
    return {k: _resolve(doc, v, seen) for k, v in node.items()}


def _assert_supported(schema: dict[str, Any], op_id: str) -> None:
    for key in schema:
        if key not in _CHECKED and key not in _ANNOTATIONS and not key.startswith("x-"):
            raise ValueError(f"{op_id}: the validator does not implement {key!r}")
    for sub in schema.get("properties", {}).values():
        _assert_supported(sub, op_id)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _assert_supported(schema[key], op_id)
        elif isinstance(schema.get(key), list):
            raise ValueError(f"{op_id}: tuple {key!r} is not implemented")
