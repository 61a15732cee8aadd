"""The shipped nginx configuration (deploy/nginx/cryptoforecast.conf) in a real nginx in front
of a real ``cryptoforecast serve``, both on 127.0.0.1: the login in front of the dashboard and
the API, the operators' and the monitoring paths by network, the admin token passed through.

nginx runs as the test's user from a temporary prefix (its own pid file, logs and temp
directories); the only lines changed are the listen address, the upstream port, the certificate
and the password file. Without nginx (or openssl) the test is skipped on a developer machine and
fails under ``CI=true``, where ``.ci/run`` installs nginx."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ..serving.conftest import free_port, stop_process

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "deploy" / "nginx" / "cryptoforecast.conf"
INSTALL_HINT = (
    "the reverse-proxy test needs nginx and openssl: apt-get install -y nginx-light openssl "
    "(set $CRYPTOFORECAST_NGINX if the binary is not on the PATH or /usr/sbin/nginx)"
)
ADMIN_TOKEN = "proxy-test-admin-token"
USER, PASSWORD = "team", "correct horse battery staple"


def _tool(name: str, env: str | None = None) -> str:
    found = (env and os.environ.get(env)) or shutil.which(name) or f"/usr/sbin/{name}"
    if not Path(found).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is missing under CI: {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    return found


def _substitute(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, f"{SHIPPED} no longer contains {old!r}: update this test"
    return text.replace(old, new)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, f"{what} exited with {proc.returncode}:\n{_read(log)}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not listen within 90 s:\n{_read(log)}"
            time.sleep(0.1)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    """``cryptoforecast serve --host 127.0.0.1 --port N`` as the systemd unit runs it, the admin
    token in its environment; yields its base URL."""
    port = free_port()
    log = tmp_path / "serve.log"
    env = dict(os.environ, CRYPTOFORECAST_ADMIN_TOKEN=ADMIN_TOKEN)
    cmd = [sys.executable, "-m", "cryptoforecast.cli", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, proc, log, "cryptoforecast serve")
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(proc)


@dataclass
class Tools:
    nginx: str
    openssl: str


@pytest.fixture
def tools() -> Tools:
    """nginx and openssl, looked for before anything starts."""
    return Tools(_tool("nginx", "CRYPTOFORECAST_NGINX"), _tool("openssl"))


@dataclass
class Proxy:
    url: str
    log: Path


@pytest.fixture
def proxy(tools: Tools, service: str, tmp_path: Path) -> Iterator[Proxy]:
    """The shipped server block in a real nginx on a free port of 127.0.0.1, in front of
    ``service``, with a self-signed certificate and a password file made as SECURITY.md says."""
    nginx, openssl = tools.nginx, tools.openssl
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    cert, key, passwords = prefix / "cert.pem", prefix / "key.pem", prefix / "htpasswd"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    hashed = (
        subprocess.run(
            [openssl, "passwd", "-apr1", "-stdin"],
            input=PASSWORD.encode(),
            check=True,
            capture_output=True,
            timeout=30,
        )
        .stdout.decode()
        .strip()
    )
    passwords.write_text(f"{USER}:{hashed}\n", encoding="utf-8")
    port = free_port()
    site = SHIPPED.read_text(encoding="utf-8")
    site = _substitute(site, "listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
    site = _substitute(site, "http://127.0.0.1:8000;", f"http://{service};")
    site = _substitute(site, "/etc/nginx/cryptoforecast.htpasswd", str(passwords))
    site = _substitute(site, "/etc/ssl/certs/forecasts.example.org.pem", str(cert))
    site = _substitute(site, "/etc/ssl/private/forecasts.example.org.key", str(key))
    (prefix / "cryptoforecast.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections 64; }}
http {{
    access_log {prefix / "access.log"};
{temp}
    include {prefix / "cryptoforecast.conf"};
}}
"""
    (prefix / "nginx.conf").write_text(main, encoding="utf-8")
    log = prefix / "error.log"
    cmd = [nginx, "-p", str(prefix), "-e", str(log), "-c", str(prefix / "nginx.conf")]
    tested = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=30)
    assert tested.returncode == 0, f"nginx -t refused the shipped file:\n{tested.stderr}"
    proc = subprocess.Popen([*cmd, "-g", "daemon off;"], stdout=subprocess.DEVNULL)
    try:
        _wait_for_port(port, proc, log, "nginx")
        yield Proxy(f"https://127.0.0.1:{port}", log)
    finally:
        stop_process(proc)


def _client(proxy: Proxy, source: str = "127.0.0.1") -> httpx.Client:
    """A client of the proxy whose connections come from ``source`` (any 127.x address is this
    host's loopback: 127.0.0.2 stands for a machine outside the allowed networks)."""
    transport = httpx.HTTPTransport(verify=False, local_address=source)
    return httpx.Client(base_url=proxy.url, transport=transport, timeout=120)


@pytest.mark.slow
def test_the_shipped_nginx_config_guards_the_dashboard_and_the_api(proxy: Proxy) -> None:
    team = (USER, PASSWORD)
    with _client(proxy) as client:
        # the dashboard: no password, a wrong one, the right one
        anonymous = client.get("/models")
        assert anonymous.status_code == 401, anonymous.text
        assert anonymous.headers["www-authenticate"] == 'Basic realm="cryptoforecast"'
        assert client.get("/models", auth=(USER, "wrong")).status_code == 401
        assert client.get("/models", auth=("someone", PASSWORD)).status_code == 401
        for page in ("/models", "/accuracy", "/"):
            answer = client.get(page, auth=team)
            assert answer.status_code == 200, (page, answer.text[:500], _read(proxy.log))
            assert answer.headers["content-type"].startswith("text/html")
            assert "- cryptoforecast</title>" in answer.text
        # the API and its schema sit behind the same login, read-only
        assert client.get("/v1/forecast/bitcoin?horizon=7").status_code == 401
        assert client.get("/openapi.json").status_code == 401
        forecast = client.get("/v1/forecast/bitcoin?horizon=7", auth=team)
        assert forecast.status_code == 200, forecast.text
        assert forecast.json()["crypto_id"] == "bitcoin"
        assert client.get("/openapi.json", auth=team).json()["openapi"].startswith("3.")
        assert client.post("/v1/forecast/bitcoin", auth=team).status_code == 403
        # monitoring from an allowed address, no login
        assert client.get("/healthz").json()["status"] in ("ok", "degraded")
        assert client.get("/metrics").status_code == 200
        # admin: the service's bearer token passes through the proxy and is checked there
        bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert client.get("/v1/admin/models", headers=bearer).status_code == 200
        wrong = client.get("/v1/admin/models", headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401 and wrong.headers["content-type"] == "application/json"
        assert client.get("/v1/admin/models", auth=team).status_code in (401, 403)
    with _client(proxy, source="127.0.0.2") as outsider:
        # from outside the operators' and monitoring networks: refused by the proxy, token or not
        refused = outsider.get("/v1/admin/models", headers=bearer)
        assert refused.status_code == 403 and "nginx" in refused.text
        assert outsider.post("/v1/retrain", headers=bearer).status_code == 403
        assert outsider.get("/healthz").status_code == 403
        assert outsider.get("/metrics").status_code == 403
        # the team's login works from anywhere
        assert outsider.get("/models", auth=team).status_code == 200


def test_security_md_points_to_the_tested_file() -> None:
    """The proxy example users copy is the file this test runs, not an untested copy."""
    security = (REPO / "SECURITY.md").read_text(encoding="utf-8")
    assert "deploy/nginx/cryptoforecast.conf" in security
    assert "server {" not in security and "htpasswd -B" in security
