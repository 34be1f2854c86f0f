"""The OpenAPI document in share/ and the request validator in convos.web.openapi."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from multidict import MultiDict, MultiDictProxy

from convos.errors import ValidationFailed
from convos.web.openapi import MAX_ERRORS, SPEC_PATH, ApiSpec, valid_date_time, valid_email, valid_uri

ROOT = Path(__file__).resolve().parents[1]

# (operationId, method, path) as listed in the seed of the original API (paths without /api).
SEED = [
    ("checkForUpdates", "GET", "/check-for-updates"),
    ("connectionMessages", "GET", "/connection/{connection_id}/messages"),
    ("conversationMessages", "GET", "/connection/{connection_id}/conversation/{conversation_id}/messages"),
    ("createAppPassword", "POST", "/user/app-passwords"),
    ("createConnection", "POST", "/connections"),
    ("deleteFiles", "DELETE", "/files/{uid}/{fid}"),
    ("deleteSessions", "DELETE", "/user/sessions"),
    # Sign-in (docs/authentication.md), not in 8.07.
    ("getTwoFactor", "GET", "/user/two-factor"),
    ("startTwoFactor", "POST", "/user/two-factor"),
    ("confirmTwoFactor", "POST", "/user/two-factor/confirm"),
    ("removeTwoFactor", "DELETE", "/user/two-factor"),
    ("resetTwoFactor", "DELETE", "/user/{email}/two-factor"),
    ("getAuthProviders", "GET", "/auth/providers"),
    ("deleteUser", "DELETE", "/user/{email}"),
    ("embed", "GET", "/embed"),
    ("getDictionary", "GET", "/i18n/{lang}"),
    ("getFile", "GET", "/files/{uid}/{fid}"),
    ("getFiles", "GET", "/files"),
    ("getSettings", "GET", "/settings"),
    ("getUser", "GET", "/user"),
    ("getUsers", "GET", "/users"),
    ("inviteUser", "POST", "/user/{email}/invite"),
    ("listAppPasswords", "GET", "/user/app-passwords"),
    ("listConnectionProfiles", "GET", "/connection-profiles"),
    ("listConnections", "GET", "/connections"),
    ("listConversations", "GET", "/conversations"),
    ("loginUser", "POST", "/user/login"),
    ("logoutUser", "GET", "/user/logout"),
    ("markAllAsRead", "POST", "/conversations/read"),
    ("markConnectionAsRead", "POST", "/connection/{connection_id}/read"),
    ("markConversationAsRead", "POST", "/connection/{connection_id}/conversation/{conversation_id}/read"),
    ("markNotificationsAsRead", "POST", "/notifications/read"),
    ("notificationMessages", "GET", "/notifications"),
    ("registerUser", "POST", "/user/register"),
    ("removeConnection", "DELETE", "/connection/{connection_id}"),
    ("removeConnectionProfile", "DELETE", "/connection-profiles/{id}"),
    ("revokeAppPassword", "DELETE", "/user/app-passwords/{id}"),
    ("saveConnectionProfile", "POST", "/connection-profiles"),
    ("searchMessages", "GET", "/search"),
    ("updateConnection", "POST", "/connection/{connection_id}"),
    ("updateConversation", "POST", "/connection/{connection_id}/conversation/{conversation_id}"),
    ("updateSettings", "POST", "/settings"),
    ("updateUser", "POST", "/user/{email}"),
    ("uploadFile", "POST", "/files"),
    ("webhook", "POST", "/webhook/{provider_name}"),
]
# Beyond the original: Web Push (docs/push.md).
PUSH = [
    ("getPushKey", "GET", "/push/key"),
    ("listPushSubscriptions", "GET", "/push/subscriptions"),
    ("addPushSubscription", "POST", "/push/subscriptions"),
    ("removePushSubscription", "DELETE", "/push/subscriptions/{id}"),
    ("testPush", "POST", "/push/test"),
    ("getPushSettings", "GET", "/push/settings"),
    ("updatePushSettings", "POST", "/push/settings"),
]
# The browser app's tools (issue 13): history download, themes, custom CSS, images through the server.
UI_TOOLS = [
    ("exportConversation", "GET", "/connection/{connection_id}/conversation/{conversation_id}/export"),
    ("listThemes", "GET", "/themes"),
    ("getCustomCss", "GET", "/custom-css"),
    ("saveCustomCss", "POST", "/custom-css"),
    ("embedImage", "GET", "/embed/image"),
    ("getPreferences", "GET", "/preferences"),
    ("savePreferences", "POST", "/preferences"),
]
SEED += UI_TOOLS
ADMIN = {
    "getAuthProviders",
    "resetTwoFactor",
    "inviteUser",
    "getSettings",
    "updateSettings",
    "getUsers",
    "saveConnectionProfile",
    "removeConnectionProfile",
}
PUBLIC = {"logoutUser", "getFile", "webhook", "getDictionary", "loginUser", "registerUser"}


@pytest.fixture(scope="module")
def spec() -> ApiSpec:
    return ApiSpec.load(ROOT / "share" / "convos-api.json")


def run(
    spec: ApiSpec,
    op_id: str,
    path: dict[str, str] | None = None,
    query: list[tuple[str, str]] | None = None,
    body: Any = None,
    content_type: str = "application/json",
) -> dict[str, Any]:
    raw = body if body is None or isinstance(body, bytes) else orjson.dumps(body)
    q = MultiDictProxy(MultiDict(query or []))
    return spec.validate(spec.operation(op_id), path or {}, q, raw, content_type)


def errors_of(spec: ApiSpec, op_id: str, **kw: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as info:
        run(spec, op_id, **kw)
    assert info.value.status == 400
    return [(e.message, e.path) for e in info.value.errors]


CID = {"connection_id": "irc-libera"}
CONV = {"connection_id": "irc-libera", "conversation_id": "#convos"}


# The document


def test_doc_has_exactly_the_seed_operations(spec: ApiSpec) -> None:
    assert len(SEED) == 45 + len(UI_TOOLS)
    assert sorted(op.operation_id for op in spec.operations) == sorted(o for o, _, _ in SEED + PUSH)
    assert {(op.operation_id, op.method, op.path) for op in spec.operations} == set(SEED + PUSH)


def test_doc_is_swagger_2_with_base_path(spec: ApiSpec) -> None:
    doc = orjson.loads((ROOT / "share" / "convos-api.json").read_bytes())
    assert doc["swagger"] == "2.0"
    assert doc["basePath"] == "/api"
    assert doc["info"]["version"]
    assert SPEC_PATH == ROOT / "share" / "convos-api.json"
    for name in ("Connection", "ConnectionProfile", "Conversation", "DefaultResponse", "Message"):
        assert name in doc["definitions"]
    for name in ("Notification", "Password", "ServerSettings", "Success", "User"):
        assert name in doc["definitions"]
    assert doc["definitions"]["Password"]["minLength"] == 10


def test_every_operation_documents_auth_and_errors(spec: ApiSpec) -> None:
    for path, item in spec.doc["paths"].items():
        for method, op in item.items():
            assert op["x-convos-auth"] in {"public", "login", "admin"}, (path, method)
            assert op["summary"] and op["description"], op["operationId"]
            assert op["responses"]["default"]["schema"] == {"$ref": "#/definitions/DefaultResponse"}
    for op in spec.operations:
        expected = "admin" if op.operation_id in ADMIN else "public" if op.operation_id in PUBLIC else "login"
        assert op.auth == expected, op.operation_id


def test_operation_parameters_are_resolved(spec: ApiSpec) -> None:
    op = spec.operation("conversationMessages")
    by_name = {p["name"]: p for p in op.parameters}
    assert by_name["before"] == by_name["before"] | {"in": "query", "type": "string", "format": "date-time"}
    assert by_name["limit"]["type"] == "integer"
    assert by_name["conversation_id"]["in"] == "path"
    search = {p["name"] for p in spec.operation("searchMessages").parameters}
    assert search == {"match", "after", "before", "before_id", "from", "limit", "connection_id", "conversation_id"}
    assert by_name["before_id"]["maxLength"] == 16  # ids are 16 characters
    register = spec.operation("registerUser").body_schema
    assert register is not None and register["properties"]["password"]["minLength"] == 10
    profile = spec.operation("saveConnectionProfile").body_schema
    assert profile is not None and profile["required"] == ["url"]
    assert spec.operation("uploadFile").consumes == [
        "multipart/form-data",
        "application/x-www-form-urlencoded",
    ]
    assert spec.operation("loginUser").consumes == ["application/json"]


# Input parameters per operation ("name:in"), from the seed plus exp/limit/match noted in the spec,
# and the message id cursors (*_id) of ours.
PARAMS = {
    "confirmTwoFactor": "body:body",
    "removeTwoFactor": "body:body",
    "resetTwoFactor": "email:path",
    "connectionMessages": "connection_id:path after:query around:query before:query limit:query match:query"
    " after_id:query around_id:query before_id:query",
    "conversationMessages": "connection_id:path conversation_id:path after:query around:query before:query"
    " limit:query match:query after_id:query around_id:query before_id:query",
    "createAppPassword": "body:body",
    "createConnection": "body:body",
    "deleteFiles": "uid:path fid:path",
    "deleteUser": "email:path",
    "embed": "url:query",
    "getDictionary": "lang:path",
    "getFile": "uid:path fid:path",
    "getFiles": "after:query limit:query",
    "getUser": "connections:query conversations:query",
    "getUsers": "after:query",
    "inviteUser": "email:path exp:query",
    "loginUser": "body:body",
    "logoutUser": "csrf:query",
    "markConnectionAsRead": "connection_id:path body:body",
    "markConversationAsRead": "connection_id:path conversation_id:path body:body",
    "notificationMessages": "limit:query match:query",
    "registerUser": "body:body",
    "removeConnection": "connection_id:path",
    "removeConnectionProfile": "id:path",
    "revokeAppPassword": "id:path",
    "saveConnectionProfile": "body:body",
    "searchMessages": "match:query after:query before:query before_id:query from:query limit:query connection_id:query"
    " conversation_id:query",
    "updateConnection": "connection_id:path body:body",
    "updateConversation": "connection_id:path conversation_id:path body:body",
    "updateSettings": "body:body",
    "updateUser": "email:path body:body",
    "uploadFile": "file:formData id:formData write_only:formData",
    "webhook": "provider_name:path body:body",
    "addPushSubscription": "body:body",
    "removePushSubscription": "id:path",
    "updatePushSettings": "body:body",
}
PARAMS.update({
    "exportConversation": "connection_id:path conversation_id:path month:query from:query to:query",
    "saveCustomCss": "body:body",
    "embedImage": "url:query",
    "savePreferences": "body:body",
})


def test_operation_parameter_lists(spec: ApiSpec) -> None:
    for op in spec.operations:
        got = {f"{p['name']}:{p['in']}" for p in op.parameters}
        assert got == set(PARAMS.get(op.operation_id, "").split()), op.operation_id
        assert (op.body_schema is not None) == ("body:body" in got), op.operation_id
        for p in op.parameters:
            assert p["in"] != "path" or p["required"] is True, (op.operation_id, p["name"])


def test_doc_is_valid_swagger_2() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(orjson.loads((ROOT / "share" / "convos-api.json").read_bytes()))


def test_for_request(spec: ApiSpec) -> None:
    doc = spec.for_request("example.com:8080", "", "https")
    assert (doc["host"], doc["basePath"], doc["schemes"]) == ("example.com:8080", "/api", ["https"])
    assert spec.for_request("h", "/sub", "http")["basePath"] == "/sub/api"
    assert spec.for_request("h", "/sub/", "http")["basePath"] == "/sub/api"
    assert "host" not in spec.doc and spec.doc["basePath"] == "/api"
    assert doc["paths"] is spec.doc["paths"]


# Validation messages


def test_missing_body_and_fields(spec: ApiSpec) -> None:
    assert errors_of(spec, "loginUser", body=None) == [("Missing property.", "/body")]
    assert errors_of(spec, "loginUser", body=b"") == [("Missing property.", "/body")]
    assert errors_of(spec, "loginUser", body=b" \n") == [("Missing property.", "/body")]
    assert errors_of(spec, "loginUser", body={"email": "xyz", "password": "x"}) == [
        ("Does not match email format.", "/body/email")
    ]
    assert errors_of(spec, "loginUser", body={"email": "a@b.c"}) == [("Missing property.", "/body/password")]
    assert errors_of(spec, "createConnection", body={}) == [("Missing property.", "/body/url")]


def test_password_length_counts_characters(spec: ApiSpec) -> None:
    body = {"email": "superman@example.com", "password": "æøå" * 3}
    assert errors_of(spec, "registerUser", body=body) == [("String is too short: 9/10.", "/body/password")]
    body["password"] = "æøåæøåæøåæ"
    assert run(spec, "registerUser", body=body)["body"]["password"] == "æøåæøåæøåæ"


def test_query_errors_have_param_paths(spec: ApiSpec) -> None:
    assert errors_of(spec, "conversationMessages", path=CONV, query=[("before", "yesterday")]) == [
        ("Does not match date-time format.", "/before")
    ]
    assert errors_of(spec, "connectionMessages", path=CID, query=[("limit", "abc")]) == [
        ("Expected integer - got string.", "/limit")
    ]
    assert errors_of(spec, "embed") == [("Missing property.", "/url")]
    assert errors_of(spec, "logoutUser") == [("Missing property.", "/csrf")]
    assert errors_of(spec, "connectionMessages") == [("Missing property.", "/connection_id")]
    assert errors_of(spec, "getUser", query=[("connections", "maybe")]) == [
        ("Expected boolean - got string.", "/connections")
    ]
    assert errors_of(spec, "inviteUser", path={"email": "a@b.c"}, query=[("exp", "0")]) == [
        ("0 < minimum(1)", "/exp")
    ]


def test_all_errors_are_reported_together(spec: ApiSpec) -> None:
    query = [("after", "2026-02-30T00:00:00"), ("limit", "1.5"), ("before", "x"), ("around", "")]
    assert errors_of(spec, "conversationMessages", path={"connection_id": "c"}, query=query) == [
        ("Does not match date-time format.", "/after"),
        ("Does not match date-time format.", "/around"),
        ("Does not match date-time format.", "/before"),
        ("Expected integer - got string.", "/limit"),
    ]
    body = {"url": "no uri", "wanted_state": "sleeping", "on_connect_commands": "/join #x"}
    assert errors_of(spec, "updateConnection", path={"connection_id": ""}, body=body) == [
        ("Does not match uri format.", "/body/url"),
        ("Not in enum list: connected, disconnected.", "/body/wanted_state"),
        ("Expected array - got string.", "/body/on_connect_commands"),
    ]


def test_enum_minimum_maximum_and_nested_paths(spec: ApiSpec) -> None:
    body = {"url": "irc://irc.libera.chat", "max_bulk_message_size": 0, "max_message_length": 4096}
    assert errors_of(spec, "saveConnectionProfile", body=body) == [
        ("0 < minimum(1)", "/body/max_bulk_message_size"),
        ("4096 > maximum(2048)", "/body/max_message_length"),
    ]
    body = {"url": "irc://x", "max_bulk_message_size": 33, "max_message_length": 31}
    assert errors_of(spec, "saveConnectionProfile", body=body) == [
        ("33 > maximum(32)", "/body/max_bulk_message_size"),
        ("31 < minimum(32)", "/body/max_message_length"),
    ]
    assert errors_of(spec, "saveConnectionProfile", body={"is_default": True}) == [
        ("Missing property.", "/body/url")
    ]
    body = {"highlight_keywords": ["ok", {"no": 1}, None], "roles": "admin"}
    assert errors_of(spec, "updateUser", path={"email": "a@b.c"}, body=body) == [
        ("Expected string - got object.", "/body/highlight_keywords/1"),
        ("Expected string - got null.", "/body/highlight_keywords/2"),
        ("Expected array - got string.", "/body/roles"),
    ]


def test_bad_json_bodies(spec: ApiSpec) -> None:
    for raw in (b"{", b'{"email":"a@b.c",}', b'{"email":"\xff"}', b'{"email":"\\ud800"}', b"NaN"):
        assert errors_of(spec, "loginUser", body=raw) == [("Invalid JSON.", "/body")], raw
    assert errors_of(spec, "loginUser", body=[]) == [("Expected object - got array.", "/body")]
    assert errors_of(spec, "loginUser", body=b"null") == [("Expected object - got null.", "/body")]
    assert errors_of(spec, "webhook", path={"provider_name": "github"}, body=b'"x"') == [
        ("Expected object - got string.", "/body")
    ]


def test_deep_nesting_is_refused_without_recursion(spec: ApiSpec) -> None:
    path = {"provider_name": "github"}
    ok = b'{"a":' * 63 + b"[]" + b"}" * 63  # 64 levels
    assert run(spec, "webhook", path=path, body=ok)["body"]["a"]["a"]["a"]
    too_deep = b'{"a":' * 64 + b"[]" + b"}" * 64
    assert errors_of(spec, "webhook", path=path, body=too_deep) == [("Too deeply nested.", "/body")]
    hostile = b"[" * 100_000 + b"]" * 100_000
    assert errors_of(spec, "webhook", path=path, body=hostile) == [("Too deeply nested.", "/body")]
    hostile = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert errors_of(spec, "webhook", path=path, body=hostile) == [("Too deeply nested.", "/body")]


def test_many_errors_are_capped(spec: ApiSpec) -> None:
    body = {"highlight_keywords": [{}] * 10_000}
    errors = errors_of(spec, "updateUser", path={"email": "a@b.c"}, body=body)
    assert len(errors) == MAX_ERRORS
    assert errors[0] == ("Too many items: 10000/50.", "/body/highlight_keywords")
    assert errors[-1] == ("Expected string - got object.", f"/body/highlight_keywords/{MAX_ERRORS - 2}")


def test_path_email_is_checked(spec: ApiSpec) -> None:
    assert errors_of(spec, "deleteUser", path={"email": "../etc"}) == [
        ("Does not match email format.", "/email")
    ]
    assert run(spec, "deleteUser", path={"email": "Superman@Example.com"}) == {
        "email": "Superman@Example.com"
    }


# Coercion and accepted input


def test_query_coercion(spec: ApiSpec) -> None:
    got = run(
        spec, "conversationMessages", path=CONV, query=[("limit", "40"), ("before", "2024-03-21T08:25:00")]
    )
    assert got == {**CONV, "limit": 40, "before": "2024-03-21T08:25:00"}
    got = run(spec, "searchMessages", query=[("match", "sec #convos"), ("limit", "3"), ("from", "")])
    assert got == {"match": "sec #convos", "limit": 3, "from": ""}
    assert run(spec, "getFiles", query=[("limit", "5"), ("limit", "7")]) == {"limit": 7}
    assert run(spec, "notificationMessages", query=[("limit", "10"), ("match", "x")]) == {
        "limit": 10,
        "match": "x",
    }
    assert run(spec, "inviteUser", path={"email": "a@b.c"}, query=[("exp", "48")])["exp"] == 48
    assert run(spec, "listConnections", query=[("unknown", "is fine")]) == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("1", True),
        ("yes", True),
        ("ON", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("off", False),
        ("", False),
    ],
)
def test_query_booleans(spec: ApiSpec, text: str, expected: bool) -> None:
    got = run(spec, "getUser", query=[("connections", text), ("conversations", text)])
    assert got["connections"] is expected and got["conversations"] is expected


def test_path_default_and_values(spec: ApiSpec) -> None:
    got = run(spec, "markConversationAsRead", path={"connection_id": "irc-x"})
    assert got == {"connection_id": "irc-x", "conversation_id": ""}
    assert run(spec, "getFile", path={"uid": "1", "fid": "abc"}) == {"uid": "1", "fid": "abc"}


def test_body_coercion_like_the_original(spec: ApiSpec) -> None:
    body = {"url": "irc://irc.libera.chat:6697", "max_bulk_message_size": "5", "is_default": "true"}
    got = run(spec, "saveConnectionProfile", body=body)["body"]
    assert got["max_bulk_message_size"] == 5 and got["is_default"] is True
    got = run(spec, "updateSettings", body={"contact": None, "open_to_public": 0, "organization_name": "42"})[
        "body"
    ]
    assert got == {"contact": None, "open_to_public": False, "organization_name": "42"}
    # Unlike the original, a number never passes for a string.
    assert errors_of(spec, "updateSettings", body={"organization_name": 42}) == [
        ("Expected string - got number.", "/body/organization_name")
    ]
    # contact's length is the handler's check (empty clears it); the schema checks the types.
    assert errors_of(spec, "updateSettings", body={"contact": "ab", "forced_connection": "perhaps"}) == [
        ("Expected boolean - got string.", "/body/forced_connection"),
    ]
    assert errors_of(spec, "saveConnectionProfile", body={"url": "irc://x", "max_message_length": 1.5}) == [
        ("Expected integer - got number.", "/body/max_message_length")
    ]
    assert errors_of(
        spec, "saveConnectionProfile", body=b'{"url": "irc://x", "max_message_length": 1e300}'
    ) == [("Expected integer - got number.", "/body/max_message_length")]
    assert run(spec, "saveConnectionProfile", body=b'{"url": "irc://x", "max_message_length": 5.12e2}') == {
        "body": {"url": "irc://x", "max_message_length": 512}
    }
    assert errors_of(spec, "saveConnectionProfile", body={"url": "irc://x", "is_forced": "maybe"}) == [
        ("Expected boolean - got string.", "/body/is_forced")
    ]


def test_unknown_body_properties_are_kept(spec: ApiSpec) -> None:
    body = {"email": "a@b.c", "password": "secret", "remember": [1, {"x": None}]}
    assert run(spec, "loginUser", body=body) == {"body": body}
    body = {"url": "irc://irc.libera.chat/%23convos", "wanted_state": "disconnected", "extra": 1}
    assert run(spec, "createConnection", body=body)["body"] == body
    settings = {"local_secret": "x", "default_connection": "", "organization_url": ""}
    assert run(spec, "updateSettings", body=settings)["body"] == settings


def test_upload_form_data(spec: ApiSpec) -> None:
    multipart = "multipart/form-data; boundary=xyz"
    assert run(spec, "uploadFile", body=b"--xyz--", content_type=multipart) == {}
    assert errors_of(
        spec, "uploadFile", body=b"id=abc", content_type="application/x-www-form-urlencoded"
    ) == [("Missing property.", "/file")]
    got = run(
        spec, "uploadFile", body=b"file=hi&write_only=yes", content_type="application/x-www-form-urlencoded"
    )
    assert got == {"file": "hi", "write_only": True}
    assert errors_of(spec, "uploadFile", body=b"{}", content_type="application/json") == [
        ("Missing property.", "/file")
    ]


# Formats


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-21T08:25:00",
        "2024-03-21T08:25:00Z",
        "2024-03-21T08:25:00.12345Z",
        "2024-03-21T08:25:00+02:00",
        "2024-02-29T23:59:59-11:30",
        "2024-03-21 08:25:00",
        "2024-12-31t00:00:00z",
    ],
)
def test_date_time_accepted(value: str) -> None:
    assert valid_date_time(value)


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-30T00:00:00",
        "2023-02-29T00:00:00",
        "2024-13-01T00:00:00",
        "2024-00-10T00:00:00",
        "2024-01-01T24:00:00",
        "2024-01-01T00:60:00",
        "2024-01-01T00:00:60",
        "2024-01-01T00:00:00+24:00",
        "0000-01-01T00:00:00",
        "2024-01-01",
        "2024-01-01T00:00",
        "2024-01-01T00:00:00 ",
        "x2024-01-01T00:00:00",
        "٢٠٢٤-01-01T00:00:00",
        "2024-01-01T00:00:00.Z",
        "",
    ],
)
def test_date_time_rejected(value: str) -> None:
    assert not valid_date_time(value)


@pytest.mark.parametrize(
    "value",
    ["superman@example.com", "Super.Man+irc@example.co.uk", "a@b", "jhthorsen@cpan.org", "o'brien@x-y.org"],
)
def test_email_accepted(value: str) -> None:
    assert valid_email(value)


@pytest.mark.parametrize(
    "value",
    [
        "xyz",
        "../@x",
        "a/b@c.d",
        "a\\b@c.d",
        "a@b.c ",
        " a@b.c",
        "a\x00@b.c",
        "a@b\x00.c",
        "a@b/../c",
        "@b.c",
        "a@",
        "a@@b.c",
        "a@b@c",
        ".a@b.c",
        "a.@b.c",
        "a..b@c.d",
        "a@.b",
        "a@b.",
        "a@b..c",
        "a@-b.c",
        "a b@c.d",
        "a\n@b.c",
        "a@" + "b" * 64 + ".c",
        "a" * 250 + "@b.cd",
        "æ@b.c",
        "",
    ],
)
def test_email_rejected(value: str) -> None:
    assert not valid_email(value)


def test_uri_format() -> None:
    assert valid_uri("irc://irc.libera.chat:6697/%23convos?nick=superman&tls=1")
    assert valid_uri("mailto:root@example.com")
    for bad in (
        "irc.libera.chat",
        "/relative",
        "1irc://x",
        "irc://x y",
        "irc://x\x00",
        "irc://x\t",
        "",
        ":x",
    ):
        assert not valid_uri(bad), bad


# Loading guards


def test_load_refuses_what_it_cannot_check(spec: ApiSpec) -> None:
    doc = copy.deepcopy(spec.doc)
    del doc["paths"]["/user"]["get"]["x-convos-auth"]
    with pytest.raises(ValueError, match="x-convos-auth"):
        ApiSpec(doc)
    doc = copy.deepcopy(spec.doc)
    doc["definitions"]["Password"]["oneOf"] = [{"type": "string"}]
    with pytest.raises(ValueError, match="oneOf"):
        ApiSpec(doc)
    doc = copy.deepcopy(spec.doc)
    doc["definitions"]["Password"] = {"$ref": "#/definitions/Password"}
    with pytest.raises(ValueError, match="circular"):
        ApiSpec(doc)


def test_generic_keywords_in_a_small_doc() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "maxLength": 10, "pattern": "^[a-z]+$"},
            "tags": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}},
            "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 1},
            "a/b": {"type": "integer"},
            "one": {"enum": [1, "a"]},
        },
    }
    doc = {
        "swagger": "2.0",
        "paths": {
            "/x": {
                "post": {
                    "operationId": "x",
                    "x-convos-auth": "public",
                    "parameters": [
                        {"name": "body", "in": "body", "required": True, "schema": schema},
                        {"name": "ids", "in": "query", "type": "array", "items": {"type": "integer"}},
                        {
                            "name": "tag",
                            "in": "query",
                            "type": "array",
                            "collectionFormat": "multi",
                            "items": {"type": "string", "enum": ["a", "b"]},
                        },
                    ],
                    "responses": {},
                }
            }
        },
    }
    spec = ApiSpec(doc)
    op = spec.operation("x")
    body = {"name": "ABCDEFGHIJK", "tags": [], "ratio": 0, "a/b": "x", "one": True, "zzz": 1, "aaa": 2}
    with pytest.raises(ValidationFailed) as info:
        spec.validate(
            op, {}, MultiDict([("ids", "1,x"), ("tag", "c")]), orjson.dumps(body), "application/json"
        )
    assert [(e.message, e.path) for e in info.value.errors] == [
        ("Expected integer - got string.", "/ids/1"),
        ("Not in enum list: a, b.", "/tag/0"),
        ("String is too long: 11/10.", "/body/name"),
        ("String does not match ^[a-z]+$.", "/body/name"),
        ("Not enough items: 0/1.", "/body/tags"),
        ("0 <= minimum(0)", "/body/ratio"),
        ("Expected integer - got string.", "/body/a~1b"),
        ("Not in enum list: 1, a.", "/body/one"),
        ("Properties not allowed: aaa, zzz.", "/body"),
    ]
    got = spec.validate(
        op, {}, MultiDict([("ids", "1,2"), ("tag", "a"), ("tag", "b")]), b'{"tags":["x"]}', ""
    )
    assert got == {"ids": [1, 2], "tag": ["a", "b"], "body": {"tags": ["x"]}}


def test_error_cap_holds_when_one_value_has_several_errors() -> None:
    items = {"type": "string", "minLength": 5, "pattern": "^a", "format": "email"}
    doc = {
        "paths": {
            "/x": {
                "post": {
                    "operationId": "x",
                    "x-convos-auth": "login",
                    "parameters": [
                        {
                            "name": "body",
                            "in": "body",
                            "required": True,
                            "schema": {"type": "array", "items": items},
                        }
                    ],
                }
            }
        }
    }
    spec = ApiSpec(doc)
    with pytest.raises(ValidationFailed) as info:
        spec.validate(spec.operation("x"), {}, {}, orjson.dumps(["b"] * (MAX_ERRORS // 3 + 1)), "")
    assert len(info.value.errors) == MAX_ERRORS
    assert info.value.errors[0].path == "/body/0" and info.value.errors[1].path == "/body/0"
