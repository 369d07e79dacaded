"""``config``, ``login`` and ``logout``: where each setting comes from, and session-mode sign-in."""

from __future__ import annotations

import argparse
import getpass
import os
from typing import TYPE_CHECKING, Any

from ..sdk.config import ENV_PREFIXES
from ..sdk.errors import AuthenticationError, BackendError, OTPRequiredError
from ..widgets.options import format_table
from .errors import from_sdk, translate, usage_error
from .registry import Command

if TYPE_CHECKING:
    from .context import Context

__all__ = ["COMMANDS", "ask_secret"]

#: (setting, BACKEND_* variable) shown by ``config``, in this order.
_CLIENT_SETTINGS = (
    ("endpoint", "ENDPOINT"),
    ("endpoint_type", "ENDPOINT_TYPE"),
    ("version", "VERSION"),
    ("domain", "DOMAIN"),
    ("group", "GROUP"),
    ("access_key", "ACCESS_KEY"),
    ("secret_key", "SECRET_KEY"),
    ("hash_type", "HASH_TYPE"),
    ("vfolder_mounts", "VFOLDER_MOUNTS"),
    ("connection_timeout", "CONNECTION_TIMEOUT"),
    ("read_timeout", "READ_TIMEOUT"),
    ("skip_sslcert_validation", "SKIP_SSLCERT_VALIDATION"),
    ("ca_bundle", "CA_BUNDLE"),
    ("pool_size", "POOL_SIZE"),
)


def _env_name(key: str) -> str:
    for prefix in ENV_PREFIXES:
        if os.environ.get(prefix + key, "").strip():
            return prefix + key
    return f"BACKEND_{key}"


def _show(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value) or "-"
    if value is None or value == "":
        return "-"
    return str(value)


def ask_secret(prompt: str) -> str:
    """Read a secret without echo; a front end that cannot prompt is a UsageError."""
    try:
        return getpass.getpass(prompt)
    except (EOFError, OSError, NotImplementedError):
        raise usage_error(
            f"cannot prompt for {prompt.strip(': ').lower()} here (no input available); run %backend login "
            "in a notebook or terminal that can ask for input"
        ) from None


def _config(ctx: Context, ns: argparse.Namespace) -> None:
    config = ctx.api_config()
    rows = []
    for name, key in _CLIENT_SETTINGS:
        value: Any = getattr(config, name)
        if name == "endpoint":
            value = config.endpoints
        if name == "secret_key":
            value = "***** (set)" if value else "(not set)"
        source: str = config.source_of(name)
        if source == "environment":
            source = f"environment ({_env_name(key)})"
        elif source == "argument":
            source = "argument (%backend login or BackendMagics)"
        rows.append([name, _show(value), source])
    ctx.print("Backend.AI client settings")
    ctx.print(format_table(["setting", "value", "source"], rows))
    ctx.print("")
    ctx.print("BackendMagics settings (change with %config BackendMagics.<name> = <value>)")
    ctx.print(format_table(["setting", "value", "source"], ctx.magics.trait_rows()))
    if ctx.kernel is not None and (current := ctx.kernel.current()) is not None:
        ctx.print(f"\nthis kernel's session: {current[0]} ({'created here' if current[1] else 'attached'})")
    if ctx.bound:
        ctx.print(f"%%backend cells run in: {ctx.bound}")


def _login_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--endpoint", metavar="URL", help="web server (session mode) URL; default: BACKEND_ENDPOINT"
    )
    p.add_argument("-u", "--username", metavar="EMAIL", help="user to sign in as (asked when not given)")


def _login(ctx: Context, ns: argparse.Namespace) -> None:
    username = ns.username
    if not username:
        try:
            username = input("User ID (email): ").strip()
        except (EOFError, OSError):
            username = ""
        if not username:
            raise usage_error("login needs a user; pass -u EMAIL")
    password = ask_secret("Password: ")
    with translate("switching to session mode"):
        client = ctx.use_settings(endpoint_type="session", endpoint=ns.endpoint)
    try:
        try:
            client.auth.login(username, password)
        except OTPRequiredError:
            client.auth.login(username, password, otp=ask_secret("One-time password: ").strip())
    except AuthenticationError:
        ctx.forget_settings("endpoint_type", "endpoint")
        raise usage_error(
            f"login as {username!r} was refused: wrong user, password or one-time password; run %backend "
            "login again"
        ) from None
    except BackendError as exc:
        ctx.forget_settings("endpoint_type", "endpoint")
        raise from_sdk(exc, action="login") from None
    ctx.print(f"logged in as {username} at {client.config.endpoint} (session mode)")


def _logout(ctx: Context, ns: argparse.Namespace) -> None:
    config = ctx.api_config()
    if config.endpoint_type != "session":
        raise usage_error("not logged in (the client uses API keys); %backend login signs in first")
    with translate("logout"):
        ctx.client().auth.logout()
    ctx.forget_settings("endpoint_type", "endpoint")
    ctx.print("logged out")


COMMANDS = {
    "config": Command("config", "show every setting and where it came from (secrets masked)", run=_config),
    "login": Command(
        "login", "sign in to a web server (session mode); asks password and OTP", _login_args, _login
    ),
    "logout": Command("logout", "sign out of the web server", run=_logout),
}
