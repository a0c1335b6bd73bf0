"""Every check of what a client sends, in one place.

* `Limits`: what one client may ask of the server.
* `resolve_settings`: a job's settings. Only the fields in `CLIENT_SETTINGS` may be set; every
  other `StyleConfig` field names something on the server (``mask`` an image file, ``weights`` a
  weights file or a download) and is refused with one message that never depends on the value,
  so an answer says nothing about the server's files.
* `nst.web.uploads.read_upload`: an upload, judged by its bytes (format, pixel count before
  decoding, shape), with its own module.
* `instant_size`, `stroke_scale`: the size of an instant (or any-painting) picture, and the
  painting's scale of an any-painting one.
* `RequestGuard`: an ASGI middleware (so it also covers streams) for what comes before any
  route: the Host header, the token, cross-site writes, the body size; and security headers.

Ids in URLs and bodies are checked by their schemas (`ID_REGEX`, 32 hex digits); style models
are looked up by name among the bundled ones (`nst.web.instant`), never opened by path, and the
any-painting decoder is the bundled one (`nst.web.anypainting`): no request names a file.
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
import json
import types
import typing
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import unquote, urlsplit

import nst
from nst.optimise.fixed import RETIRED_SETTINGS
from nst.optimise.presets import PRESETS

if typing.TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one client may ask of the server."""

    max_upload_bytes: int = 20 * 2**20
    max_pixels: int = 40_000_000
    # Longest side of an output (and of a stored upload), in px.
    max_size: int = 1024
    # Iterations of one job, all scales together (a tiled scale counts once per tile).
    max_iterations: int = 5000
    max_styles: int = 4
    max_queued: int = 16
    # Any request body but an upload's (a job's JSON is under 2 KiB).
    max_request_bytes: int = 64 * 2**10


# Settings ------------------------------------------------------------------------------------------

#: The `StyleConfig` fields a client may set: numbers, choices and VGG layer names. A field that
#: is not here (a file, a path, weights, anything added to the core later) is refused.
CLIENT_SETTINGS = frozenset({
    "size", "iterations", "optimizer", "lr", "tolerance", "seed",
    "init", "content_weight", "style_weight", "stroke_weight", "tv_weight", "laplacian_weight",
    "subject_weight", "coarse_content_boost", "content_layers", "style_layers",
    "style_layer_weights", "final_only_style_layers", "salient_quantile", "pooling", "coarse_style",
    "scales", "scale_ratio", "scale_iterations", "style_scale", "style_size",
    "style_blend", "preserve_color", "tile_size",
})  # fmt: skip
#: Fields on the list whose values are restricted further: any other value would name a file
#: (``init`` may also be an image path, or ``model:NAME``, which may be a path too).
CLIENT_CHOICES: dict[str, tuple[str, ...]] = {"init": ("content", "noise", "instant")}
#: Fields that list VGG layers; each layer at most once (a repeated layer repeats its work).
LAYER_LISTS = ("content_layers", "style_layers", "final_only_style_layers")


def resolve_settings(
    preset: str | None, overrides: dict[str, Any], device: str, limits: Limits, styles: int = 1
) -> dict[str, Any]:
    """The complete, validated settings of a job: preset (or defaults) + overrides, size resolved.

    Raises `nst.InputError` (one line) for an unknown preset or setting, a field a client may
    not set, a value of the wrong type or one the core refuses, and work beyond ``limits``.
    ``styles`` is the number of paintings (for ``style_blend``).
    """
    if preset is not None and preset not in PRESETS:
        raise nst.InputError(f"unknown preset {_short(preset)} (presets: {', '.join(PRESETS)})")
    base = nst.StyleConfig.preset(preset) if preset else nst.StyleConfig()
    base_values = base.to_dict()
    # A job of an older nst sent back (Re-run): settings nst no longer has are painted as nst paints now.
    overrides = {name: value for name, value in overrides.items() if name not in RETIRED_SETTINGS}
    hints = _setting_types()
    unknown = sorted(name for name in overrides if name not in hints)
    if unknown:
        shown = ", ".join(_short(name, quote=False) for name in unknown[:5])
        raise nst.InputError(f"unknown setting(s): {shown}" + (", ..." if len(unknown) > 5 else ""))
    for name, value in overrides.items():
        if name not in CLIENT_SETTINGS:
            if value == base_values[name]:
                continue  # what the server uses anyway (a job's own settings sent back)
            raise nst.InputError(
                f"{name} cannot be set through the web API: it would name a file, a path or "
                "weights on the server"
            )
        if not _fits(value, hints[name]):
            raise nst.InputError(f"{name} must be {_describe(hints[name])}, got {_short(value)}")
        if name in CLIENT_CHOICES and value not in CLIENT_CHOICES[name]:
            raise nst.InputError(f"{name} must be one of {', '.join(CLIENT_CHOICES[name])}")
        if name in LAYER_LISTS:
            repeated = sorted({layer for layer in value if value.count(layer) > 1})
            if repeated:
                raise nst.InputError(f"{name} names {', '.join(repeated[:3])} more than once")
    config = nst.StyleConfig.from_dict({**base_values, **overrides})
    size = config.resolve_size(device.split(":")[0])
    if size > limits.max_size:
        raise nst.InputError(f"size {size} is over this server's limit of {limits.max_size} px")
    config = config.with_changes(size=size)
    total = sum(iterations * _tiles(config, side) for side, iterations in config.scale_plan(size))
    if total > limits.max_iterations:
        raise nst.InputError(
            f"{total} iterations in all is over this server's limit of {limits.max_iterations}"
        )
    style_side = config.style_longest_side(size)
    if style_side > limits.max_size:
        raise nst.InputError(f"style size {style_side} is over this server's limit of {limits.max_size} px")
    if config.style_blend is not None and len(config.style_blend) != styles:
        raise nst.InputError(f"style_blend has {len(config.style_blend)} weight(s) for {styles} painting(s)")
    return config.to_dict()


@functools.cache
def _setting_types() -> dict[str, Any]:
    return typing.get_type_hints(nst.StyleConfig)


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value has the shape of a field's type (the core then checks its range)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_fits(value, arm) for arm in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    return False


_NAMES = {bool: ("true or false", "booleans"), int: ("an integer", "integers"),
          float: ("a number", "numbers"), str: ("a string", "strings"), type(None): ("null", "nulls")}  # fmt: skip


def _describe(hint: Any) -> str:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return " or ".join(_describe(arm) for arm in typing.get_args(hint))
    if typing.get_origin(hint) is tuple:
        return f"a list of {_NAMES.get(typing.get_args(hint)[0], ('', 'values'))[1]}"
    return _NAMES.get(hint, (str(hint), ""))[0]


def _short(value: Any, *, quote: bool = True, limit: int = 60) -> str:
    """A client's value for an error message: one line, and not an echo of a huge body."""
    text = repr(value) if quote else str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tiles(config: nst.StyleConfig, side: int) -> int:
    """Tiles a level of this longest side is optimised in, for a square picture (the most)."""
    tile = config.tile_for(side)
    if tile is None:
        return 1
    from nst.optimise.tiling import overlap_for, tile_boxes

    return len(tile_boxes(side, side, tile, overlap_for(tile)))


def instant_size(requested: int | None, default: int, limits: Limits) -> int:
    """The longest side of an instant picture: as asked, else ``default`` within the limit."""
    size = requested if requested is not None else min(default, limits.max_size)
    if not 16 <= size <= limits.max_size:
        raise nst.InputError(
            f"size must be between 16 and this server's limit of {limits.max_size} px, got {size}"
        )
    return size


#: The least and the most ``stroke_scale`` of an any-painting picture: the painting at a quarter
#: of the photo's size to four times (beyond, its statistics come from a thumbnail or cost more
#: than the photo's, for strokes no one asked for).
STROKE_SCALES = (0.25, 4.0)


def stroke_scale(value: float) -> float:
    """The painting's size relative to the photo's, within `STROKE_SCALES`."""
    low, high = STROKE_SCALES
    if not low <= value <= high:  # NaN fails too
        raise nst.InputError(f"stroke_scale must be between {low:g} and {high:g}, got {_short(value)}")
    return float(value)


def in_bytes(count: int) -> str:
    """A byte count as a person reads it (KiB or MiB)."""
    return f"{count / 2**20:g} MiB" if count >= 2**20 else f"{count / 2**10:g} KiB"


# Requests ------------------------------------------------------------------------------------------

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
TOKEN_COOKIE = "nst_token"
#: The one route that takes a large body; every other body is capped at `Limits.max_request_bytes`.
UPLOAD_PATH = "/api/images"


class _BodyTooLarge(Exception):
    pass


class RequestGuard:
    """Host check, token check, cross-site refusal, body cap and security headers.

    * a token, when the app has one, is required on every /api call and on the schema: as
      ``Authorization: Bearer TOKEN`` or as the ``nst_token`` cookie the page sets (so that
      ``<img>`` and ``EventSource`` requests carry it without putting it in URLs and logs);
    * without a token only loopback host names are answered, which stops DNS-rebinding pages
      from reaching a local server; a state-changing request whose Origin is another site is
      refused;
    * request bodies are capped while they stream in, before anything is parsed: an upload at
      ``Limits.max_upload_bytes`` (plus room for the multipart framing), anything else at
      ``Limits.max_request_bytes``;
    * no CORS headers are ever sent, so other sites' scripts cannot read answers.
    """

    def __init__(
        self, app: ASGIApp, *, token: str | None, allowed_hosts: tuple[str, ...] | None, limits: Limits
    ) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts else None
        self.max_upload_body = limits.max_upload_bytes + 64 * 2**10
        self.max_other_body = limits.max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.allowed_hosts is not None and _host_name(host) not in self.allowed_hosts:
            await _refuse(send, 400, "this server answers only to localhost (use --token to serve others)")
            return
        path: str = scope["path"]
        if self.token is not None and (path.startswith("/api/") or path == "/openapi.json"):
            if not self._authorised(headers):
                await _refuse(send, 401, "a valid token is needed", {"WWW-Authenticate": "Bearer"})
                return
        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            origin = headers.get("origin")
            if origin == "null" or (origin and urlsplit(origin).netloc.lower() != host.lower()):
                await _refuse(send, 403, "cross-site requests are refused")
                return
        max_body = self.max_upload_body if path == UPLOAD_PATH else self.max_other_body
        too_large = f"the request is over {in_bytes(max_body)}"
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body):
            await _refuse(send, 413, too_large)
            return

        received = 0
        started = False

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise _BodyTooLarge
            return message

        async def secured_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = list(message.get("headers", [])) + _SECURITY_HEADERS
            await send(message)

        try:
            await self.app(scope, capped_receive, secured_send)
        except _BodyTooLarge:
            if not started:
                await _refuse(send, 413, too_large)

    def _authorised(self, headers: dict[str, str]) -> bool:
        assert self.token is not None
        given = ""
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            given = value.strip()
        elif "cookie" in headers:
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(headers["cookie"])
            except Exception:
                return False
            if TOKEN_COOKIE in cookie:
                given = unquote(cookie[TOKEN_COOKIE].value)
        return bool(given) and hmac.compare_digest(given.encode(), self.token)


def _host_name(host: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1', '[::1]:8000' -> '::1'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
]


async def _refuse(send: Send, status: int, detail: str, extra: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()] + _SECURITY_HEADERS
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
