"""How every part of HomeSafe reaches an MQTT broker: URLs, credentials, TLS and TCP_NODELAY.

paho never sets TCP_NODELAY and Nagle's algorithm then holds small QoS 0 messages for up to 40 ms,
so every socket the project opens goes through here.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho

NODELAY_OPTION = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
DEFAULT_KEEPALIVE_S = 30


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where a broker is and how to log in; built from a URL plus optional TLS files."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_insecure: bool = False

    @classmethod
    def from_url(cls, url: str, **tls: Any) -> BrokerSettings:
        """Parse `mqtt://[user[:password]@]host[:port]` (or `mqtts://` for TLS, default port 8883)."""
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"unsupported broker URL scheme {parts.scheme!r} in {url!r}; use mqtt:// or mqtts://")
        secure = parts.scheme in ("mqtts", "ssl") or bool(tls.pop("tls", False))
        if not parts.hostname:
            raise ValueError(f"broker URL {url!r} has no host; expected e.g. mqtt://127.0.0.1:1883")
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if secure else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=secure,
            **tls,
        )

    @property
    def url(self) -> str:
        """The URL without the password, safe to log."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for this broker, or `None` for plain TCP."""
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file:
            context.load_cert_chain(self.cert_file, self.key_file)
        if self.tls_insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def _set_nodelay(_client: paho.Client, _userdata: Any, sock: Any) -> None:
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(*NODELAY_OPTION)


def paho_client(
    settings: BrokerSettings,
    client_id: str,
    *,
    clean_session: bool = True,
    max_inflight: int = 100,
    max_queued: int = 0,
) -> paho.Client:
    """A paho 2.x client (MQTT 3.1.1) configured for `settings`, with TCP_NODELAY on its socket.

    Call `.connect(settings.host, settings.port)` (or `connect_async`) yourself, after setting callbacks.
    """
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=paho.MQTTv311,
    )
    client.on_socket_open = _set_nodelay
    client.max_inflight_messages_set(max_inflight)
    client.max_queued_messages_set(max_queued)
    if settings.username:
        client.username_pw_set(settings.username, settings.password)
    context = settings.ssl_context()
    if context is not None:
        client.tls_set_context(context)
    return client


def aiomqtt_options(settings: BrokerSettings) -> dict[str, Any]:
    """Keyword arguments for `aiomqtt.Client` matching `settings`, TCP_NODELAY included."""
    return {
        "hostname": settings.host,
        "port": settings.port,
        "username": settings.username,
        "password": settings.password,
        "tls_context": settings.ssl_context(),
        "socket_options": (NODELAY_OPTION,),
        "protocol": paho.MQTTv311,
    }
