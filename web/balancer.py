"""HAProxy in front of several ``edugis serve`` nodes: its configuration and its stats socket.

What the configuration (:func:`haproxy_config`) asks of HAProxy (Debian's ``haproxy`` 2.6):

- send each request to the node with the fewest open requests (``leastconn``) among those
  whose ``/readyz`` answered 200 (checked every second; a node is out after two failures,
  in again after one success);
- when a node cannot be reached (connection refused: it died) resend the request to another
  node (``retry-on conn-failure``, ``option redispatch``): safe for every method, the node
  got nothing;
- GET and HEAD, which change nothing, are also resent when the node closed the connection
  without answering (killed mid-request): ``retry-on empty-response``; so is a POST whose
  form carries a one-time ``request_key`` (the staff forms that write: create, publish and
  grant a round), which the write claims in its own transaction
  (:mod:`gis_service.request_keys`): the resend finds it and does not write twice. Other
  POSTs (sign-in, uploads, runs) are never resent once sent (``disable-l7-retry``): one may
  have committed before its node died. A 503 is not resent: during a failover every node
  answers it, and resending would only multiply the load;
- when no node passes ``/readyz`` (the database is failing over), send requests to the
  nodes anyway (each again as a ``backup`` server, unchecked): what they hold in memory (the
  finder's nearest schools, cached tiles, static files) is still served, and the rest gets
  the app's own 503 page in the visitor's language with ``Retry-After``, not HAProxy's;
- with read nodes (app nodes whose database URL prefers a standby), send them the GETs and
  HEADs of the public pages and APIs (:data:`PUBLIC_PATHS`), which then go on during a
  failover of the primary; staff pages, sign-in and every POST go to the nodes on the
  primary, so an officer reads what they wrote;
- tell the nodes who the client is (``X-Forwarded-For``; the nodes believe it from
  ``EDUGIS_FORWARDED_ALLOW_IPS``, 127.0.0.1 by default) and keep the ``Host`` header, so
  sign-in's same-origin rule holds.

Only failures are logged (``dontlog-normal``): a log line per request costs as much as
answering a cached tile.
"""

from __future__ import annotations

import csv
import io
import os
import pwd
import socket
from dataclasses import dataclass
from pathlib import Path

BACKEND = "app"
#: The backend of the read nodes: app nodes on the standbys (public GETs only).
READ_BACKEND = "readers"
#: What the read nodes answer: GET and HEAD of the public pages and APIs. Everything else
#: (staff pages, sign-in, every POST) goes to the nodes on the primary (read-your-writes).
PUBLIC_PATHS = ("/api/", "/ogc/", "/static/", "/download/", "/schools", "/finder", "/compare",
                "/data")
#: The form field of a POST's one-time key: such a POST may be resent (see the module doc).
REQUEST_KEY = "request_key"
#: The name suffix of each node's unchecked ``backup`` entry (used when no node is ready).
BACKUP_SUFFIX = "-unchecked"


HEALTH_CHECK = """    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 1
"""


@dataclass(frozen=True)
class ServerState:
    """One app node as HAProxy sees it (``show stat``)."""

    name: str
    status: str  # UP, DOWN, MAINT, "UP 1/2" while rising, "no check" ...
    sessions_total: int


def haproxy_config(port: int, servers: dict[str, int], stats_socket: Path,
                   readers: dict[str, int] | None = None, host: str = "127.0.0.1") -> str:
    """Return HAProxy's configuration: ``host:port`` in front of ``servers`` (name -> port).

    ``readers`` (name -> port) are app nodes on the standbys: public GETs and HEADs go to
    those that pass ``/readyz``, to ``servers`` when none does.
    """
    drop = ""
    if os.geteuid() == 0:  # bind, open the socket, then run as haproxy's own user
        try:
            pwd.getpwnam("haproxy")
            drop = "    user haproxy\n    group haproxy\n"
        except KeyError:
            pass
    lines = "".join(
        f"    server {name} {host}:{server_port} check\n" for name, server_port in servers.items())
    lines += "".join(f"    server {name}{BACKUP_SUFFIX} {host}:{server_port} backup\n"
                     for name, server_port in servers.items())
    routing, read_backend = "", ""
    if readers:
        routing = (f"    acl public_path path /\n    acl public_path path_beg {' '.join(PUBLIC_PATHS)}\n"
                   f"    use_backend {READ_BACKEND} if {{ method GET HEAD }} public_path "
                   f"{{ nbsrv({READ_BACKEND}) gt 0 }}\n")
        read_lines = "".join(f"    server {name} {host}:{server_port} check\n"
                             for name, server_port in readers.items())
        read_backend = f"""
backend {READ_BACKEND}
    balance leastconn
    # GETs only: a read node whose standby restarts (to follow a new primary) answers 503
    # while another may still serve
    retry-on conn-failure empty-response 503
{HEALTH_CHECK}{read_lines}"""
    return f"""# made by edugis cluster (web/balancer.py); edit the layout, not this file
global
    maxconn 4096
    stats socket {stats_socket} mode 600 level admin
    log stderr format short local0 info
{drop}
defaults
    mode http
    log global
    option httplog
    option dontlog-normal
    option forwardfor
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout http-keep-alive 10s
    timeout queue 30s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend web
    bind {host}:{port}
{routing}    default_backend {BACKEND}

backend {BACKEND}
    balance leastconn
    option allbackups
    # a POST is sent twice only with a one-time request_key, which its write claims (the
    # form's body is read for it); others (sign-in, an upload, a run) may have committed
    option http-buffer-request
    acl keyed_form req.body_param({REQUEST_KEY}) -m reg ^[0-9a-f]{{32}}$
    http-request disable-l7-retry unless {{ method GET HEAD }} or keyed_form
{HEALTH_CHECK}{lines}{read_backend}"""


def stats_command(stats_socket: Path, command: str) -> str:
    """Send one command to HAProxy's stats socket and return its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(5)
        conn.connect(str(stats_socket))
        conn.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def server_states(stats_socket: Path) -> list[ServerState]:
    """Return the app nodes as HAProxy sees them (none when it does not answer)."""
    try:
        answer = stats_command(stats_socket, "show stat")
    except OSError:
        return []
    rows = csv.DictReader(io.StringIO(answer.lstrip("# ")))
    return [ServerState(row["svname"], row["status"], int(row["stot"] or 0)) for row in rows
            if row.get("pxname") in (BACKEND, READ_BACKEND)
            and row["svname"] not in ("FRONTEND", "BACKEND")
            and not row["svname"].endswith(BACKUP_SUFFIX)]


def set_server_enabled(stats_socket: Path, name: str, enabled: bool) -> None:
    """Put app node ``name`` (of the primary) back in service, or take it out (maintenance)."""
    state = "ready" if enabled else "maint"
    for server in (name, name + BACKUP_SUFFIX):
        answer = stats_command(stats_socket, f"set server {BACKEND}/{server} state {state}")
        if answer.strip():
            raise RuntimeError(f"HAProxy refused to set {server} {state}: {answer.strip()}")
