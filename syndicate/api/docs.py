"""The API's documentation: the lifecycle webhooks in OpenAPI terms, and ``/docs``, the OpenAPI
document rendered as one HTML page.

The page is built here, on the server, from the same document ``/openapi.json`` serves: no script,
no stylesheet or font from elsewhere, nothing fetched by the browser, so it works offline, behind
a firewall, and under a ``default-src 'none'`` Content-Security-Policy. Every operation and
webhook is listed with its parameters, body and answers, and every schema with its fields;
``$ref`` s are links within the page.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any, get_args

__all__ = ["DOCS_CSP", "lifecycle_schemas", "lifecycle_webhooks", "render_docs"]

#: The Content-Security-Policy of ``/docs``: the page loads nothing and runs nothing.
DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_STATES = ("awaiting_review", "scheduled", "enqueued", "calling", "retrying", "in_doubt", "published",
           "unconfirmed", "failed", "cancelled", "skipped", "unpublished")

_WEBHOOK_HEADERS = (
    ("webhook-id", "The message id: the same on every retry of one message. Dedupe on it.", "msg_0f3c5d0e8d9a4b7e"),
    ("webhook-timestamp", "Seconds since the epoch when this attempt was signed; refuse it when more than five "
                          "minutes from your clock.", "1795464736"),
    ("webhook-signature", "'v1,' + base64 of HMAC-SHA256 over '{webhook-id}.{webhook-timestamp}.{body}', keyed "
                          "with the base64-decoded secret (Standard Webhooks).", "v1,lVr3Mak0wSGZOcY5GucI4UXFyx"),
)


def lifecycle_schemas() -> dict[str, Any]:
    """The ``LifecycleEvent`` schema: the JSON body of every lifecycle webhook."""
    nullable_str = {"type": ["string", "null"]}
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    return {"LifecycleEvent": {
        "type": "object", "required": ["type", "timestamp", "data"],
        "description": "A publication reached a state. Sent at least once: dedupe on the webhook-id header, and "
                       "order by timestamp.",
        "properties": {
            "type": {"type": "string", "pattern": "^publication\\.[a-z_]+$",
                     "description": "publication.<state>"},
            "timestamp": {"type": "string", "format": "date-time", "description": "When the change happened"},
            "data": {"type": "object", "required": [
                "publication_id", "key", "item_id", "revision", "locale", "account", "channel", "campaign", "slot",
                "state", "previous_state", "reason", "scheduled_for", "published_at", "permalink", "remote_id",
                "tagged_url", "attempts", "error"],
                "properties": {
                    "publication_id": {"type": "integer"}, "key": {"type": "string"},
                    "item_id": {"type": "string"}, "revision": {"type": "integer"},
                    "locale": {"type": "string"}, "account": {"type": "string"}, "channel": {"type": "string"},
                    "campaign": {"type": "string"}, "slot": {"type": "integer"},
                    "state": {"type": "string", "enum": list(_STATES)},
                    "previous_state": {"type": ["string", "null"], "enum": [*_STATES, None],
                                       "description": "null when the publication was just planned"},
                    "reason": {"type": "string", "description": "the ledger's event kind: planned, published, "
                                                                "deferred, superseded, cancelled, approved, ..."},
                    "scheduled_for": {"type": "string", "format": "date-time"}, "published_at": nullable_time,
                    "permalink": nullable_str, "remote_id": nullable_str, "tagged_url": {"type": "string"},
                    "attempts": {"type": "integer"},
                    "error": {**nullable_str, "description": "the recorded error; null for published"}}}}}}


def lifecycle_webhooks() -> dict[str, Any]:
    """The OpenAPI 3.1 ``webhooks`` section: one POST per lifecycle event a producer can receive."""
    from ..model.config import LifecycleEvent

    headers = [{"name": name, "in": "header", "required": True, "description": text,
                "schema": {"type": "string"}, "example": example} for name, text, example in _WEBHOOK_HEADERS]
    out: dict[str, Any] = {}
    for state in get_args(LifecycleEvent):
        event = f"publication.{state}"
        words = state.replace("_", " ")
        out[event] = {"post": {
            "operationId": "on" + "".join(p.capitalize() for p in re.split(r"[._]", event)),
            "summary": f"A publication is now {words}",
            "description": f"Sent to each endpoint of settings.yaml notifications.webhooks whose events include "
                           f"{state} (every state but retrying by default), signed per Standard Webhooks.",
            "parameters": headers,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"allOf": [
                {"$ref": "#/components/schemas/LifecycleEvent"},
                {"properties": {"type": {"const": event},
                                "data": {"properties": {"state": {"const": state}}}}}]}}}},
            "responses": {
                "2XX": {"description": "Received. Answer once it is stored; anything else is retried with backoff "
                                       "(Retry-After honoured) up to max_attempts."},
                "410": {"description": "Gone: this message is not sent again."}},
            "security": []}}
    return out


# -- the page -------------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#fff}
main{max-width:1100px;margin:0 auto;padding:24px 32px 64px}h1{font-size:26px;margin:0 0 4px}
h2{font-size:20px;margin:36px 0 12px;padding-bottom:4px;border-bottom:1px solid #d0d7de}
h3{font-size:16px;margin:0;font-weight:600}nav{columns:2;font-size:14px;margin:12px 0}nav a{display:block}
.op{border:1px solid #d0d7de;border-radius:6px;margin:14px 0;padding:12px 16px}
.op header{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.verb{font:600 12px ui-monospace,monospace;padding:2px 8px;border-radius:4px;color:#fff;background:#57606a}
.verb.get{background:#1f6feb}.verb.post{background:#1a7f37}.verb.delete{background:#cf222e}
code,.path{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13.5px}.path{font-weight:600}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:13.5px}th,td{text-align:left;vertical-align:top;
padding:4px 8px;border-bottom:1px solid #eaeef2;overflow-wrap:break-word}
th{background:#f6f8fa;font-weight:600;white-space:nowrap}td:first-child,td:nth-child(2){white-space:nowrap}
.muted{color:#57606a}.req{color:#cf222e;font-size:12px}h4{font-size:14px;margin:12px 0 2px}
a{color:#0969da}pre{background:#f6f8fa;padding:8px;border-radius:6px;overflow-x:auto;font-size:12.5px}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _anchor(kind: str, name: str) -> str:
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9_.-]", "-", name)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: Any, depth: int = 0) -> str:
    """A schema as a short phrase with links: ``string (date-time)``, ``array of Publication``."""
    if not isinstance(schema, Mapping) or depth > 6:
        return "any"
    if "$ref" in schema:
        name = _ref_name(str(schema["$ref"]))
        return f'<a href="#{_anchor("schema", name)}">{_e(name)}</a>'
    if "const" in schema:
        return f"<code>{_e(json.dumps(schema['const']))}</code>"
    if "allOf" in schema:
        whole = [p for p in schema["allOf"] if isinstance(p, Mapping) and ("$ref" in p or "type" in p)]
        fixed = [c for p in schema["allOf"] if p not in whole for c in _consts(p)]
        text = " and ".join(_type(p, depth + 1) for p in whole)
        return text + (" with " + ", ".join(fixed) if fixed else "")
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [p for p in schema[key] if not (isinstance(p, Mapping) and p.get("type") == "null")]
            nullable = len(parts) < len(schema[key])
            text = " or ".join(_type(p, depth + 1) for p in parts)
            return text + (" or null" if nullable else "")
    kind = schema.get("type")
    kinds = [k for k in (kind if isinstance(kind, list) else [kind]) if k]
    words = []
    for k in kinds or ["any"]:
        if k == "array":
            words.append(f"array of {_type(schema.get('items'), depth + 1)}")
        elif k == "object" and isinstance(schema.get("additionalProperties"), Mapping):
            words.append(f"map of {_type(schema['additionalProperties'], depth + 1)}")
        else:
            words.append(_e(k))
    text = " or ".join(words)
    if "format" in schema:
        text += f" ({_e(schema['format'])})"
    return text


def _consts(schema: Any, prefix: str = "") -> list[str]:
    """``field "value"`` for every ``const`` a refining schema sets (``allOf`` parts without a type)."""
    out: list[str] = []
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    for name, sub in (props or {}).items():
        if isinstance(sub, Mapping) and "const" in sub:
            out.append(f"<code>{_e(prefix + name)}</code> <code>{_e(json.dumps(sub['const']))}</code>")
        else:
            out.extend(_consts(sub, f"{prefix}{name}."))
    return out


def _constraints(schema: Any) -> str:
    """Allowed values and limits of ``schema``, in words."""
    if not isinstance(schema, Mapping):
        return ""
    out = []
    if "enum" in schema:
        out.append("one of " + ", ".join(f"<code>{_e(json.dumps(v))}</code>" for v in schema["enum"]))
    for key, word in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"), ("maxLength", "length ≤"),
                      ("minItems", "items ≥"), ("maxItems", "items ≤")):
        if key in schema:
            out.append(f"{word} {_e(schema[key])}")
    if "pattern" in schema:
        out.append(f"pattern <code>{_e(schema['pattern'])}</code>")
    if "default" in schema:
        out.append(f"default <code>{_e(json.dumps(schema['default']))}</code>")
    if schema.get("description"):
        out.append(_e(schema["description"]))
    return "; ".join(out)


def _parameters(params: Any) -> str:
    if not params:
        return ""
    def values(p: Mapping[str, Any]) -> str:
        described = {"description": p["description"]} if p.get("description") else {}
        return _constraints({**(p.get("schema") or {}), **described})

    rows = "".join(
        f"<tr><td><code>{_e(p.get('name'))}</code>{' <span class=req>required</span>' if p.get('required') else ''}"
        f"</td><td>{_e(p.get('in'))}</td><td>{_type(p.get('schema'))}</td><td>{values(p)}</td></tr>" for p in params)
    return ("<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Values</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


def _content(content: Any) -> str:
    if not isinstance(content, Mapping):
        return ""
    return "; ".join(f"<code>{_e(media)}</code>: {_type(spec.get('schema'))}"
                     for media, spec in content.items() if isinstance(spec, Mapping))


def _operation(method: str, path: str, op: Mapping[str, Any], kind: str) -> str:
    anchor = _anchor(kind, f"{method}-{path}")
    parts = [f'<section class="op" id="{anchor}"><header><span class="verb {_e(method)}">{_e(method.upper())}</span>'
             f'<span class="path">{_e(path)}</span><span class="muted">{_e(op.get("summary", ""))}</span></header>']
    if op.get("description"):
        parts.append(f"<p>{_e(op['description'])}</p>")
    if op.get("security") == []:
        parts.append('<p class="muted">No token needed.</p>' if kind == "op" else "")
    parts.append(_parameters(op.get("parameters")))
    body = op.get("requestBody")
    if isinstance(body, Mapping):
        need = "required" if body.get("required") else "optional"
        parts.append(f"<h4>Body ({need})</h4><p>{_content(body.get('content'))}</p>")
    responses = op.get("responses") or {}
    rows = "".join(f"<tr><td><code>{_e(code)}</code></td><td>{_e(r.get('description', ''))}</td>"
                   f"<td>{_content(r.get('content'))}</td></tr>" for code, r in responses.items()
                   if isinstance(r, Mapping))
    if rows:
        title = "Your answer" if kind == "webhook" else "Answers"
        parts.append(f"<h4>{title}</h4><table><thead><tr><th>Status</th><th>Meaning</th><th>Body</th></tr></thead>"
                     f"<tbody>{rows}</tbody></table>")
    parts.append("</section>")
    return "".join(parts)


def _schema(name: str, schema: Mapping[str, Any]) -> str:
    props = schema.get("properties")
    required = set(schema.get("required") or ())
    head = f'<section class="op" id="{_anchor("schema", name)}"><header><h3>{_e(name)}</h3>' \
           f'<span class="muted">{_type(schema) if not isinstance(props, Mapping) else "object"}</span></header>'
    desc = f"<p>{_e(schema['description'])}</p>" if schema.get("description") else ""
    if not isinstance(props, Mapping):
        return f"{head}{desc}<p>{_constraints(schema)}</p></section>"
    rows = "".join(
        f"<tr><td><code>{_e(k)}</code>{' <span class=req>required</span>' if k in required else ''}</td>"
        f"<td>{_type(v)}</td><td>{_constraints(v)}</td></tr>" for k, v in props.items())
    return (f"{head}{desc}<table><thead><tr><th>Field</th><th>Type</th><th>Values</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></section>")


def render_docs(doc: Mapping[str, Any]) -> str:
    """The OpenAPI document ``doc`` as one self-contained HTML page."""
    info = doc.get("info") or {}
    paths = doc.get("paths") or {}
    webhooks = doc.get("webhooks") or {}
    schemas = (doc.get("components") or {}).get("schemas") or {}
    ops = [(m, p, op) for p, item in paths.items() for m, op in item.items() if isinstance(op, Mapping)]
    hooks = [(m, name, op) for name, item in webhooks.items() for m, op in item.items() if isinstance(op, Mapping)]
    nav = "".join(f'<a href="#{_anchor("op", f"{m}-{p}")}">{_e(m.upper())} {_e(p)}</a>' for m, p, _ in ops)
    nav += "".join(f'<a href="#{_anchor("webhook", f"{m}-{n}")}">webhook {_e(n)}</a>' for m, n, _ in hooks)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{DOCS_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(info.get('title', 'API'))}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{_e(info.get('title', 'API'))}</h1>"
        f'<p class="muted">OpenAPI {_e(doc.get("openapi", ""))} · version {_e(info.get("version", ""))} · '
        '<a href="/openapi.json">openapi.json</a></p>'
        f"<p>{_e(info.get('description', ''))}</p>"
        "<p>Every <code>/v1</code> request carries <code>Authorization: Bearer &lt;token&gt;</code>. Errors are "
        "<code>application/problem+json</code> with every problem by field.</p>"
        f"<nav>{nav}</nav>"
        f'<h2 id="operations">Operations</h2>{"".join(_operation(m, p, op, "op") for m, p, op in ops)}'
        f'<h2 id="webhooks">Lifecycle webhooks</h2><p>syndicate calls your endpoint with these requests '
        "(configure it in settings.yaml, <code>notifications.webhooks</code>).</p>"
        f'{"".join(_operation(m, n, op, "webhook") for m, n, op in hooks)}'
        f'<h2 id="schemas">Schemas</h2>{"".join(_schema(n, s) for n, s in schemas.items() if isinstance(s, Mapping))}'
        "</main></body></html>\n"
    )
