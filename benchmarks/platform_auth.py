"""What authentication costs a platform server request, beside MLflow's basic auth scheme.

Three figures, medians over `--repeats` rounds, on one SQLite store:

- per request, in process: `Accounts.authenticate(token)` (SHA-256 of the token, one indexed
  lookup of the token and its user, one of the user's grants), beside the check MLflow's
  basic-auth app (`mlflow server --app-name basic-auth`) makes on every request: Werkzeug's
  `check_password_hash` of the user's password against its stored hash (Werkzeug's default
  method, scrypt, as MLflow stores them); MLflow itself is not installed here, so this is
  its scheme's check, timed with the same Werkzeug it uses, not MLflow's server;
- over 127.0.0.1 (uvicorn, one client sending one request at a time): the latency of a GET
  of a trivial JSON endpoint without authentication, and behind `AuthMiddleware` with a
  valid token; p50 and p99;
- a login: `POST /api/login` (argon2id at argon2-cffi's default cost, then a token made).

    python benchmarks/platform_auth.py [--repeats 5] [--requests 2000] [--json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from starlette.applications import Starlette  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from shipyard.platform.access import Role  # noqa: E402
from shipyard.platform.auth.layer import auth_layer  # noqa: E402
from shipyard.platform.auth.records import Actor  # noqa: E402
from shipyard.platform.database import Database  # noqa: E402
from tests.ui.server import serving  # noqa: E402

PASSWORD = "correct horse battery"
HOST = Actor("host:bench")


async def _hello(request: Any) -> JSONResponse:
    return JSONResponse({"ok": True})


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _latencies_ms(
    port: int, method: str, path: str, count: int, headers: dict[str, str], body: bytes | None
) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    spent = []
    for _ in range(count):
        start = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        spent.append((time.perf_counter() - start) * 1000)
        assert answer.status in (200, 201), answer.status
    conn.close()
    return spent


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    from werkzeug.security import check_password_hash, generate_password_hash

    folder = Path(tempfile.mkdtemp(prefix="platform-auth-"))
    database = Database(f"sqlite:///{folder / 'store.db'}")
    auth = auth_layer(database)
    accounts = auth.accounts
    accounts.add_user("ana", actor=HOST, password=PASSWORD)
    for number in range(20):
        accounts.add_project(f"p{number}", actor=HOST)
        accounts.grant("ana", f"p{number}", Role.RUNNER, actor=HOST)
    token = accounts.create_token("ana", actor=HOST).secret
    mlflow_hash = generate_password_hash(PASSWORD)

    plain = Starlette(routes=[Route("/api/hello", _hello)])
    guarded = Starlette(
        routes=[Route("/api/hello", _hello), *auth.routes], middleware=[auth.middleware]
    )
    with serving(plain) as plain_url, serving(guarded) as auth_url:
        ports = {"plain": _port(plain_url), "auth": _port(auth_url)}
        rounds: dict[str, list[float]] = {}
        bearer = {"Authorization": f"Bearer {token}"}
        login_body = json.dumps({"name": "ana", "password": PASSWORD}).encode()
        for _ in range(options.repeats):
            calls = 200
            start = time.perf_counter()
            for _ in range(calls):
                accounts.authenticate(token)
            rounds.setdefault("authenticate_ms", []).append(
                (time.perf_counter() - start) * 1000 / calls
            )
            start = time.perf_counter()
            for _ in range(5):
                assert check_password_hash(mlflow_hash, PASSWORD)
            rounds.setdefault("mlflow_check_ms", []).append(
                (time.perf_counter() - start) * 1000 / 5
            )
            for name, port in ports.items():
                spent = _latencies_ms(
                    port,
                    "GET",
                    "/api/hello",
                    options.requests,
                    bearer if name == "auth" else {},
                    None,
                )
                rounds.setdefault(f"{name}_p50_ms", []).append(_percentile(spent, 0.5))
                rounds.setdefault(f"{name}_p99_ms", []).append(_percentile(spent, 0.99))
            logins = _latencies_ms(
                ports["auth"],
                "POST",
                "/api/login",
                5,
                {"Content-Type": "application/json"},
                login_body,
            )
            rounds.setdefault("login_ms", []).append(statistics.median(logins))
    database.close()
    figures = {name: round(statistics.median(values), 3) for name, values in rounds.items()}
    if options.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"authenticate (token, user, 20 grants), in process: {figures['authenticate_ms']:.3f} ms")
    mlflow = figures["mlflow_check_ms"]
    print(f"MLflow basic auth's per-request check (werkzeug scrypt): {mlflow:.3f} ms")
    print(
        f"GET over 127.0.0.1, p50/p99: no auth {figures['plain_p50_ms']:.3f}/"
        f"{figures['plain_p99_ms']:.3f} ms, AuthMiddleware {figures['auth_p50_ms']:.3f}/"
        f"{figures['auth_p99_ms']:.3f} ms"
    )
    print(f"POST /api/login (argon2id, default cost): {figures['login_ms']:.1f} ms")


if __name__ == "__main__":
    main()
