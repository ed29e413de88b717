"""`footcast serve`'s processes: uvicorn worker processes on host:port, each listening on its
own SO_REUSEPORT socket, with the embedded Redis server when no FOOTCAST_REDIS_URL is set."""

import ipaddress
import os
import shutil
import signal
import socket
import tempfile

from footcast import config
from footcast.adapters.redaction import redact_url
from footcast.adapters.redis import connection
from footcast.api.settings import ServeConfigError, Settings, split_list


class ReusePortListener(socket.socket):
    """The port for uvicorn's worker processes, each of which listens on a socket of its own.

    uvicorn's workers share the parent's listening socket, and whichever wakes first accepts a
    burst of new connections: 50 keep-alive connections were measured split 37/13, even 50/0,
    halving throughput. uvicorn hands the parent's sockets to its workers by pickling them; this
    one pickles as its address, so each worker opens its own SO_REUSEPORT listener and the
    kernel spreads connections over the workers. The parent only holds the port (bound, never
    listening, so no connection waits on it)."""

    @classmethod
    def for_workers(cls, host: str, port: int, backlog: int) -> "ReusePortListener":
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = cls(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise ServeConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        sock.address, sock.backlog = (host, port), backlog
        return sock

    def __reduce__(self):
        return _worker_listener, (*self.address, self.backlog)


def _worker_listener(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    access_log: bool = False,
    allow_anonymous: bool = False,
) -> None:
    """Serve until interrupted: ``workers`` uvicorn worker processes on host:port."""
    import uvicorn

    if not is_loopback(host) and not split_list(os.environ.get("FOOTCAST_API_KEYS")) and not allow_anonymous:
        raise ServeConfigError(
            f"--host {host} is not loopback: set FOOTCAST_API_KEYS (comma-separated keys) so clients "
            "must authenticate, or pass --allow-anonymous to serve without keys"
        )
    if workers < 1:
        raise ServeConfigError("--workers must be at least 1")
    embedded = None
    description = redact_url(config.redis_url() or "", bare_userinfo_is_secret=False)
    if not config.redis_url():
        # The embedded server lives as long as this process; the workers reach it by its socket.
        embedded = connection.connect(None, config.embedded_redis_path())
        os.environ["FOOTCAST_REDIS_URL"] = f"unix://{embedded.socket_file}"
        description = f"embedded redis {config.embedded_redis_path()}"
    own_metrics_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_metrics_dir = tempfile.mkdtemp(prefix="footcast-serve-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_metrics_dir
    settings = Settings.from_env()
    # A client that hangs up must cost a write an EPIPE error, not the server its life: the CLI
    # restores SIGPIPE's default action (so `footcast lookup | head` ends quietly), and with
    # one worker uvicorn serves in this very process.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    print(
        f"footcast serve: http://{host}:{port} ({workers} worker{'s' if workers > 1 else ''}), "
        f"predictions from {description} prefix {settings.prefix!r}; "
        f"API keys {'required' if settings.api_keys else 'off'}; "
        f"CORS {', '.join(settings.cors_origins) if settings.cors_origins else 'off'}",
        flush=True,
    )
    server_config = uvicorn.Config(
        "footcast.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=access_log,
        log_level="info",
        server_header=False,
        proxy_headers=False,
    )
    try:
        if workers == 1:
            uvicorn.Server(server_config).run()
        else:
            from uvicorn.supervisors import Multiprocess

            listener = ReusePortListener.for_workers(host, port, server_config.backlog)
            Multiprocess(server_config, sockets=[listener]).run()
    finally:
        if own_metrics_dir:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
        if embedded is not None:
            embedded.close()
