"""Client settings: ``APIConfig``, resolved argument > environment (BACKEND_, SORNA_) > default."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, NoReturn, TypeVar, Union, overload

from yarl import URL

from ._constants import (
    DEFAULT_API_VERSION,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DOMAIN,
    DEFAULT_ENDPOINT,
    DEFAULT_ENDPOINT_TYPE,
    DEFAULT_GROUP,
    DEFAULT_HASH_TYPE,
    DEFAULT_POOL_SIZE,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_USER_AGENT,
    ENDPOINT_TYPES,
)
from ._constants import ENV_PREFIXES as ENV_PREFIXES
from .errors import ConfigError
from .retry import RetryPolicy
from .versioning import parse_version

__all__ = [
    "DEFAULTS",
    "APIConfig",
    "Source",
    "TimeoutLike",
    "bool_env",
    "get_config",
    "get_env",
    "parse_address_map",
    "parse_endpoints",
    "parse_seconds",
    "set_config",
]

T = TypeVar("T")
Source = Literal["argument", "environment", "default"]
TimeoutLike = Union[float, "tuple[float, float]"]
PathLike = Union[str, "os.PathLike[str]"]

#: The official SDK's defaults, under its key names.
DEFAULTS: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "endpoint": DEFAULT_ENDPOINT,
        "endpoint_type": DEFAULT_ENDPOINT_TYPE,
        "version": DEFAULT_API_VERSION,
        "hash_type": DEFAULT_HASH_TYPE,
        "domain": DEFAULT_DOMAIN,
        "group": DEFAULT_GROUP,
        "storage_proxy_address_map": {},
        "connection_timeout": DEFAULT_CONNECT_TIMEOUT,
        "read_timeout": DEFAULT_READ_TIMEOUT,
        "announcement_handler": None,
    }
)


class _Invalid(ValueError):
    """A cleaner's complaint: the tail of a message such as "is not a number of seconds; set it to ..."."""


class _Undefined:
    def __repr__(self) -> str:
        return "<undefined>"


_UNDEFINED: Final = _Undefined()


def _identity(value: str) -> str:
    return value


def _lookup_env(key: str) -> tuple[str, str] | None:
    """The first non-empty ``BACKEND_<key>`` / ``SORNA_<key>`` as (variable name, raw value)."""
    for prefix in ENV_PREFIXES:
        name = prefix + key
        raw = os.environ.get(name)
        if raw is not None and raw.strip() != "":
            return name, raw
    return None


def _complain(label: str, raw: object, exc: Exception) -> NoReturn:
    if "secret" in label.lower():
        raw = "***"  # never echo a secret, even a malformed one
    if isinstance(exc, _Invalid):
        raise ConfigError(f"{label}={raw!r} {exc}") from None
    raise ConfigError(f"{label}={raw!r} is invalid ({exc}); fix or unset it") from exc


@overload
def get_env(key: str, default: T | _Undefined = _UNDEFINED) -> str | T: ...
@overload
def get_env(key: str, default: T | _Undefined = _UNDEFINED, *, clean: Callable[[str], T]) -> T: ...
def get_env(key: str, default: Any = _UNDEFINED, *, clean: Callable[[str], Any] = _identity) -> Any:
    """``BACKEND_<key>`` else ``SORNA_<key>`` passed through ``clean``, else ``default``, else ConfigError."""
    found = _lookup_env(key)
    if found is None:
        if isinstance(default, _Undefined):
            raise ConfigError(f"BACKEND_{key} is not set; set the environment variable BACKEND_{key}")
        return default
    name, raw = found
    try:
        return clean(raw)
    except (ValueError, TypeError) as exc:
        _complain(name, raw, exc)


def bool_env(value: str) -> bool:
    """Parse yes/no style flags (1/0, true/false, yes/no, on/off)."""
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on", "y", "t"}:
        return True
    if lowered in {"0", "false", "no", "off", "n", "f", ""}:
        return False
    raise _Invalid("is not a yes/no flag; set it to 1 or 0")


def parse_seconds(value: str | float) -> float:
    """A non-negative number of seconds (0 = no limit)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise _Invalid("is not a number of seconds; set it to e.g. 30 or 0 for no limit") from None
    if seconds < 0 or seconds != seconds:
        raise _Invalid("is not a number of seconds >= 0; set it to e.g. 30 or 0 for no limit")
    return seconds


def _parse_count(value: str | int, *, minimum: int, example: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _Invalid(f"is not a whole number; set it to e.g. {example}") from None
    if number < minimum or isinstance(value, bool):
        raise _Invalid(f"must be a whole number >= {minimum}; set it to e.g. {example}")
    return number


def _parse_endpoint(item: str | URL) -> URL:
    url = item if isinstance(item, URL) else URL(item.strip())
    if url.scheme not in {"http", "https"} or not url.host:
        raise _Invalid(f"is not an http(s) URL; set it to e.g. {DEFAULT_ENDPOINT} (several: a comma list)")
    return url


def parse_endpoints(value: str | URL | Sequence[str | URL]) -> tuple[URL, ...]:
    """A comma list (or sequence) of http(s) endpoint URLs, in the configured order."""
    items: list[str | URL]
    if isinstance(value, URL):
        items = [value]
    elif isinstance(value, str):
        items = [part for part in value.split(",") if part.strip()]
    else:
        items = [part for part in value if isinstance(part, URL) or part.strip()]
    if not items:
        raise _Invalid(f"is empty; set it to e.g. {DEFAULT_ENDPOINT}")
    return tuple(_parse_endpoint(item) for item in items)


def parse_address_map(value: str | Mapping[str, str]) -> Mapping[str, str]:
    """``"orig=new,orig2=new2"`` (or a mapping) -> storage-proxy URL prefix replacements."""
    pairs: dict[str, str] = {}
    if isinstance(value, str):
        for part in value.split(","):
            if not part.strip():
                continue
            orig, sep, new = part.partition("=")
            if not sep or not orig.strip() or not new.strip():
                raise _Invalid(
                    "is not a list of orig=new pairs; set it to e.g. "
                    "'http://10.0.0.5:6021=https://storage.example.com'"
                )
            pairs[orig.strip()] = new.strip()
    else:
        pairs = {str(k): str(v) for k, v in value.items()}
    return MappingProxyType(pairs)


def _parse_choice(value: str, *, choices: Iterable[str], example: str) -> str:
    lowered = value.strip().lower()
    if lowered not in set(choices):
        raise _Invalid(f"is not one of {sorted(choices)}; set it to e.g. {example!r}")
    return lowered


def _parse_version(value: str) -> str:
    try:
        parse_version(value)
    except ValueError:
        raise _Invalid(f"is not an API version; set it to e.g. {DEFAULT_API_VERSION!r}") from None
    return value.strip()


def _parse_hash(value: str) -> str:
    name = value.strip().lower()
    if name not in hashlib.algorithms_guaranteed or name.startswith("shake"):
        raise _Invalid("is not a supported hash; set it to e.g. 'sha256'")
    return name


def _parse_list(value: str | Iterable[str]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(item.strip() for item in items if item.strip())


def _parse_file(value: PathLike, what: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_file():
        raise _Invalid(f"is not an existing file; set it to the path of {what}")
    return path


def _parse_text(value: str) -> str:
    if not isinstance(value, str):
        raise _Invalid("is not a string")
    return value


class APIConfig:
    """Connection settings for one Backend.AI endpoint (the official SDK's parameters, plus ours).

    Each value comes from the keyword argument if given, else the environment, else the default;
    ``source_of(name)`` tells which. Immutable after construction; ``replace()`` makes a changed copy.
    """

    __slots__ = ("_explicit", "_sources", "_values")

    _values: dict[str, Any]
    _sources: dict[str, Source]
    _explicit: dict[str, Any]

    def __init__(
        self,
        *,
        endpoint: str | URL | Sequence[str | URL] | None = None,
        endpoint_type: str | None = None,
        domain: str | None = None,
        group: str | None = None,
        storage_proxy_address_map: Mapping[str, str] | None = None,
        version: str | None = None,
        user_agent: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        hash_type: str | None = None,
        vfolder_mounts: Iterable[str] | None = None,
        skip_sslcert_validation: bool | None = None,
        connection_timeout: float | None = None,
        read_timeout: float | None = None,
        announcement_handler: Callable[[str], None] | None = None,
        timeout: TimeoutLike | None = None,
        retry: RetryPolicy | None = None,
        ca_bundle: PathLike | None = None,
        client_cert: PathLike | tuple[PathLike, PathLike] | None = None,
        pool_size: int | None = None,
    ) -> None:
        explicit = {k: v for k, v in locals().items() if k not in {"self", "__class__"} and v is not None}
        values: dict[str, Any] = {}
        sources: dict[str, Source] = {}

        def resolve(name: str, env_key: str | None, clean: Callable[[Any], Any], default: Any) -> None:
            if name in explicit:
                raw = explicit[name]
                try:
                    values[name] = clean(raw)
                except (ValueError, TypeError) as exc:
                    _complain(f"APIConfig({name})", raw, exc)
                sources[name] = "argument"
                return
            found = _lookup_env(env_key) if env_key else None
            if found is not None:
                var, raw = found
                try:
                    values[name] = clean(raw)
                except (ValueError, TypeError) as exc:
                    _complain(var, raw, exc)
                sources[name] = "environment"
                return
            values[name] = default
            sources[name] = "default"

        resolve("endpoint", "ENDPOINT", parse_endpoints, parse_endpoints(DEFAULT_ENDPOINT))
        resolve(
            "endpoint_type",
            "ENDPOINT_TYPE",
            lambda v: _parse_choice(v, choices=ENDPOINT_TYPES, example="api"),
            DEFAULT_ENDPOINT_TYPE,
        )
        resolve("domain", "DOMAIN", _parse_text, DEFAULT_DOMAIN)
        resolve("group", "GROUP", _parse_text, DEFAULT_GROUP)
        resolve("version", "VERSION", _parse_version, DEFAULT_API_VERSION)
        resolve("user_agent", None, _parse_text, DEFAULT_USER_AGENT)
        resolve("access_key", "ACCESS_KEY", lambda v: _parse_text(v).strip(), "")
        resolve("secret_key", "SECRET_KEY", lambda v: _parse_text(v).strip(), "")
        resolve("hash_type", "HASH_TYPE", _parse_hash, DEFAULT_HASH_TYPE)
        resolve("vfolder_mounts", "VFOLDER_MOUNTS", _parse_list, ())
        resolve(
            "skip_sslcert_validation",
            "SKIP_SSLCERT_VALIDATION",
            lambda v: v if isinstance(v, bool) else bool_env(v),
            False,
        )
        resolve("connection_timeout", "CONNECTION_TIMEOUT", parse_seconds, DEFAULT_CONNECT_TIMEOUT)
        resolve("read_timeout", "READ_TIMEOUT", parse_seconds, DEFAULT_READ_TIMEOUT)
        resolve(
            "storage_proxy_address_map", "OVERRIDE_STORAGE_PROXY", parse_address_map, MappingProxyType({})
        )
        resolve("announcement_handler", None, lambda v: v, None)
        resolve(
            "retry",
            "MAX_RETRIES",
            lambda v: (
                v
                if isinstance(v, RetryPolicy)
                else RetryPolicy(max_retries=_parse_count(v, minimum=0, example="2 (0 disables retries)"))
            ),
            RetryPolicy(),
        )
        resolve("ca_bundle", "CA_BUNDLE", lambda v: _parse_file(v, "a PEM file of CA certificates"), None)
        resolve(
            "pool_size", "POOL_SIZE", lambda v: _parse_count(v, minimum=1, example="100"), DEFAULT_POOL_SIZE
        )
        self._resolve_client_cert(explicit, values, sources)
        self._resolve_timeout(explicit, values, sources)

        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_sources", sources)
        object.__setattr__(self, "_explicit", explicit)

    @staticmethod
    def _resolve_client_cert(
        explicit: dict[str, Any], values: dict[str, Any], sources: dict[str, Source]
    ) -> None:
        what_cert = "a PEM client certificate"
        what_key = "the PEM private key of the client certificate"
        if "client_cert" in explicit:
            raw = explicit["client_cert"]
            try:
                if isinstance(raw, tuple):
                    values["client_cert"] = (_parse_file(raw[0], what_cert), _parse_file(raw[1], what_key))
                else:
                    values["client_cert"] = (_parse_file(raw, what_cert), None)
            except (ValueError, TypeError, IndexError) as exc:
                _complain("APIConfig(client_cert)", raw, exc)
            sources["client_cert"] = "argument"
            return
        cert = _lookup_env("CLIENT_CERT")
        key = _lookup_env("CLIENT_KEY")
        if cert is None:
            if key is not None:
                raise ConfigError(
                    f"{key[0]} is set but BACKEND_CLIENT_CERT is not; set BACKEND_CLIENT_CERT too"
                )
            values["client_cert"] = None
            sources["client_cert"] = "default"
            return
        try:
            cert_path = _parse_file(cert[1], what_cert)
        except ValueError as exc:
            _complain(cert[0], cert[1], exc)
        key_path = None
        if key is not None:
            try:
                key_path = _parse_file(key[1], what_key)
            except ValueError as exc:
                _complain(key[0], key[1], exc)
        values["client_cert"] = (cert_path, key_path)
        sources["client_cert"] = "environment"

    @staticmethod
    def _resolve_timeout(
        explicit: dict[str, Any], values: dict[str, Any], sources: dict[str, Source]
    ) -> None:
        if "timeout" not in explicit:
            sources["timeout"] = sources["connection_timeout"]
            if sources["read_timeout"] != "default":
                sources["timeout"] = sources["read_timeout"]
            return
        if "connection_timeout" in explicit or "read_timeout" in explicit:
            raise ConfigError(
                "APIConfig got both timeout= and connection_timeout=/read_timeout=; give only one of them"
            )
        raw = explicit["timeout"]
        try:
            if isinstance(raw, tuple):
                if len(raw) != 2:
                    raise _Invalid("is not a (connect, read) pair; give e.g. (10, 60) or one number")
                connect, read = parse_seconds(raw[0]), parse_seconds(raw[1])
            else:
                connect = read = parse_seconds(raw)
        except ValueError as exc:
            _complain("APIConfig(timeout)", raw, exc)
        values["connection_timeout"], values["read_timeout"] = connect, read
        for name in ("timeout", "connection_timeout", "read_timeout"):
            sources[name] = "argument"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"APIConfig is immutable; use config.replace({name}=...) for a changed copy")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("APIConfig is immutable")

    def replace(self, **changes: Any) -> APIConfig:
        """A copy with some arguments changed (values not given are re-resolved the same way)."""
        merged = dict(self._explicit)
        if "timeout" in changes:
            merged.pop("connection_timeout", None)
            merged.pop("read_timeout", None)
        if "connection_timeout" in changes or "read_timeout" in changes:
            merged.pop("timeout", None)
        merged.update(changes)
        return APIConfig(**merged)

    def source_of(self, name: str) -> Source:
        """Where a setting came from: ``"argument"``, ``"environment"`` or ``"default"``."""
        key = "endpoint" if name == "endpoints" else name
        if key not in self._sources:
            raise KeyError(f"APIConfig has no setting {name!r}; known: {sorted(self._sources)}")
        return self._sources[key]

    # -- the official SDK's properties --
    @property
    def endpoint(self) -> URL:
        """The first configured endpoint."""
        endpoints: tuple[URL, ...] = self._values["endpoint"]
        return endpoints[0]

    @property
    def endpoints(self) -> tuple[URL, ...]:
        """Every configured endpoint, in order (failover goes down this list)."""
        endpoints: tuple[URL, ...] = self._values["endpoint"]
        return endpoints

    @property
    def endpoint_type(self) -> str:
        """``"api"`` (keypair signing) or ``"session"`` (web-server login cookie)."""
        return str(self._values["endpoint_type"])

    @property
    def domain(self) -> str:
        """The domain name sent as X-BackendAI-Domain and used in create."""
        return str(self._values["domain"])

    @property
    def group(self) -> str:
        """The default group (project) name."""
        return str(self._values["group"])

    @property
    def version(self) -> str:
        """The client's API version; the negotiated one is min(this, server)."""
        return str(self._values["version"])

    @property
    def user_agent(self) -> str:
        """The User-Agent header value."""
        return str(self._values["user_agent"])

    @property
    def access_key(self) -> str:
        """The keypair access key ("" = anonymous)."""
        return str(self._values["access_key"])

    @property
    def secret_key(self) -> str:
        """The keypair secret key; never print it."""
        return str(self._values["secret_key"])

    @property
    def hash_type(self) -> str:
        """The HMAC hash name, e.g. ``sha256``."""
        return str(self._values["hash_type"])

    @property
    def vfolder_mounts(self) -> tuple[str, ...]:
        """Vfolders mounted into every created session."""
        mounts: tuple[str, ...] = self._values["vfolder_mounts"]
        return mounts

    @property
    def skip_sslcert_validation(self) -> bool:
        """Whether TLS certificates are not verified (insecure)."""
        return bool(self._values["skip_sslcert_validation"])

    @property
    def connection_timeout(self) -> float:
        """Seconds to establish a connection; 0 = no limit."""
        return float(self._values["connection_timeout"])

    @property
    def read_timeout(self) -> float:
        """Seconds to wait for each read; 0 = no limit."""
        return float(self._values["read_timeout"])

    @property
    def storage_proxy_address_map(self) -> Mapping[str, str]:
        """Storage-proxy URL prefix replacements (original -> reachable)."""
        mapping: Mapping[str, str] = self._values["storage_proxy_address_map"]
        return mapping

    @property
    def announcement_handler(self) -> Callable[[str], None] | None:
        """Called with the manager's announcement text, if any, after negotiation."""
        handler: Callable[[str], None] | None = self._values["announcement_handler"]
        return handler

    # -- ours --
    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) seconds; 0 = no limit."""
        return self.connection_timeout, self.read_timeout

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy."""
        policy: RetryPolicy = self._values["retry"]
        return policy

    @property
    def ca_bundle(self) -> Path | None:
        """A PEM file of CA certificates to trust instead of the system store."""
        path: Path | None = self._values["ca_bundle"]
        return path

    @property
    def client_cert(self) -> tuple[Path, Path | None] | None:
        """(certificate, private key or None) for mutual TLS."""
        pair: tuple[Path, Path | None] | None = self._values["client_cert"]
        return pair

    @property
    def pool_size(self) -> int:
        """Maximum simultaneous connections."""
        return int(self._values["pool_size"])

    @property
    def is_anonymous(self) -> bool:
        """True when no access key is configured (requests go unsigned)."""
        return self.access_key == ""

    def map_storage_url(self, url: str | URL) -> URL:
        """Apply ``storage_proxy_address_map`` to a storage-proxy URL from the manager."""
        text = str(url)
        target = URL(text) if isinstance(url, str) else url
        for orig, new in self.storage_proxy_address_map.items():
            prefix = orig.rstrip("/")
            if "://" in prefix:
                if text == prefix or text.startswith(prefix + "/") or text.startswith(prefix + "?"):
                    return URL(new.rstrip("/") + text[len(prefix) :], encoded=True)
            elif target.raw_authority == prefix:
                # A bare host:port maps the authority only and keeps the scheme unless given.
                replacement = URL(new if "://" in new else f"{target.scheme}://{new}")
                return (
                    target.with_scheme(replacement.scheme)
                    .with_host(replacement.raw_host or "")
                    .with_port(replacement.explicit_port)
                )
        return target

    def __repr__(self) -> str:
        shown = {
            "endpoint": ",".join(str(u) for u in self.endpoints),
            "endpoint_type": self.endpoint_type,
            "version": self.version,
            "domain": self.domain,
            "group": self.group,
            "access_key": self.access_key,
            "secret_key": "***" if self.secret_key else "",
            "timeout": self.timeout,
        }
        return "APIConfig(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


_current: APIConfig | None = None


def get_config() -> APIConfig:
    """The process-wide current config (built from the environment on first use)."""
    global _current
    if _current is None:
        _current = APIConfig()
    return _current


def set_config(conf: APIConfig | None) -> None:
    """Replace the process-wide current config (None: rebuild from the environment next time)."""
    global _current
    _current = conf
