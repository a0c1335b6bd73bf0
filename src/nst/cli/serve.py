"""`nst serve`: the web app under uvicorn. CLI code: it may print.

Importing this module is cheap (argparse only); FastAPI and uvicorn are imported when the command
runs, so the rest of the CLI works without the ``web`` extra.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
from pathlib import Path

import nst
from nst.cli.options import add_device_option, resolve_device

TOKEN_ENV = "NST_TOKEN"


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/nst/web, else ~/.local/share/nst/web."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "nst" / "web"


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # any other host name may resolve to a public address


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `nst serve`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument(
        "--data-dir",
        default=None,
        help=f"where jobs and images are kept (default: {default_data_dir()})",
    )
    parser.add_argument(
        "--token",
        default=None,
        help=f"require this token on every API call (default: ${TOKEN_ENV}); needed to listen "
        "on anything but loopback. Prefer the environment variable: others can read arguments",
    )
    add_device_option(parser, "where the worker computes")
    parser.add_argument(
        "--queue-size", type=int, default=16, help="waiting jobs allowed; more get 429 (default: 16)"
    )
    parser.add_argument(
        "--max-size", type=int, default=1024, help="largest output side a job may ask for, px (default: 1024)"
    )
    parser.add_argument(
        "--max-upload-mb", type=float, default=20.0, help="largest upload in MiB (default: 20)"
    )
    parser.add_argument(
        "--checkpoint-seconds",
        type=float,
        default=None,
        metavar="S",
        help="save the running job's state every S seconds, so that a restart resumes it "
        "(default: the core's, 60)",
    )
    parser.add_argument("--quiet", action="store_true", help="log only warnings")


def run(args: argparse.Namespace) -> int:
    """Run the server until interrupted."""
    token = args.token or os.environ.get(TOKEN_ENV) or None
    if not is_loopback(args.host) and not token:
        raise nst.InputError(
            f"listening on {args.host} lets other machines in: give a token (--token or ${TOKEN_ENV})"
        )
    if not 0 <= args.port <= 65535:
        raise nst.InputError(f"--port must be between 0 and 65535, got {args.port}")
    if args.queue_size < 1 or args.max_size < 16 or args.max_upload_mb <= 0:
        raise nst.InputError("--queue-size must be >= 1, --max-size >= 16 and --max-upload-mb > 0")
    if args.checkpoint_seconds is not None and not args.checkpoint_seconds > 0:
        raise nst.InputError(f"--checkpoint-seconds must be > 0, got {args.checkpoint_seconds}")
    try:
        import uvicorn

        from nst.web.app import Limits, create_app
    except ImportError as exc:
        raise nst.InputError(
            f"nst serve needs the web extra ({exc.name} is missing): pip install -e '.[web]'"
        ) from None
    device = resolve_device(args.device)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    limits = Limits(
        max_upload_bytes=int(args.max_upload_mb * 2**20), max_size=args.max_size, max_queued=args.queue_size
    )
    app = create_app(
        data_dir, token, device=device, limits=limits, checkpoint_seconds=args.checkpoint_seconds
    )
    level = logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"nst: serving http://{host}:{args.port}/ on {device}, data in {data_dir}", file=sys.stderr)
    if token:
        print("nst: every API call needs the token (the page asks for it once)", file=sys.stderr)
    # A short graceful shutdown: open progress streams would otherwise hold Ctrl+C up.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning" if args.quiet else "info",
        timeout_graceful_shutdown=3,
    )
    return 0
