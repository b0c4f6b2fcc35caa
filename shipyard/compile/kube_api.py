"""The Kubernetes API server as a pod sees it, over HTTPS with the standard library.

A compiled pipeline's launcher task (`pytorchjob_launch`) creates, reads and deletes one
custom resource; the `kubernetes` client would be a large dependency of the image for three
calls. In a pod, the server is `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`,
trusted through the service account's `ca.crt`, and each request carries the service
account's token, read again at every request (the kubelet rotates it). Outside a cluster,
`SHIPYARD_KUBE_API` names another server, such as `kubectl proxy`'s `http://127.0.0.1:8001`,
with `SHIPYARD_KUBE_NAMESPACE` as the namespace.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from shipyard.errors import PlatformError

SERVICE_ACCOUNT: Final = Path("/var/run/secrets/kubernetes.io/serviceaccount")
"""Where Kubernetes mounts a pod's service account: token, ca.crt, namespace."""
API_ENV: Final = "SHIPYARD_KUBE_API"
NAMESPACE_ENV: Final = "SHIPYARD_KUBE_NAMESPACE"
TIMEOUT_S: Final = 30.0


class ApiUnreachable(PlatformError):
    """The API server could not be reached or answered with a server error (worth retrying)."""

    headline = "Kubernetes API unreachable"


@dataclass(frozen=True)
class KubeApi:
    """One API server and namespace, and the credentials of this pod.

    Attributes:
        server: `https://HOST:PORT` (or `http://` for `kubectl proxy` and tests).
        namespace: The namespace every path is in.
        token_file: The bearer token's file, read at each request; None sends none.
        ca_file: The CA bundle that signs the server's certificate; None: the system's.
    """

    server: str
    namespace: str
    token_file: Path | None = None
    ca_file: Path | None = None

    @classmethod
    def in_pod(cls, account: Path = SERVICE_ACCOUNT) -> KubeApi:
        """The API server of the pod this runs in (or `SHIPYARD_KUBE_API`'s).

        Raises:
            PlatformError: Neither a pod's environment nor `SHIPYARD_KUBE_API` is there.
        """
        namespace = os.environ.get(NAMESPACE_ENV) or _read(account / "namespace")
        token = account / "token"
        ca = account / "ca.crt"
        server = os.environ.get(API_ENV)
        if not server:
            host = os.environ.get("KUBERNETES_SERVICE_HOST")
            port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
            if host:
                server = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
        if not server or not namespace:
            raise PlatformError(
                f"no Kubernetes API server to launch the PyTorchJob on: KUBERNETES_SERVICE_HOST "
                f"is {'set' if server else 'unset'} and {account / 'namespace'} "
                f"{'exists' if namespace else 'is missing'} (this runs in a Kubeflow task's "
                f"pod); outside a cluster set {API_ENV}=http://127.0.0.1:8001 (kubectl proxy) "
                f"and {NAMESPACE_ENV}."
            )
        return cls(
            server=server.rstrip("/"),
            namespace=namespace.strip(),
            token_file=token if token.is_file() else None,
            ca_file=ca if ca.is_file() and server.startswith("https:") else None,
        )

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Send one request; return the status code and the JSON body (even for a 4xx).

        Raises:
            ApiUnreachable: No connection, a timeout or a 5xx answer.
        """
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token_file is not None:
            headers["Authorization"] = f"Bearer {self.token_file.read_text().strip()}"
        url = f"{self.server}{path}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=context) as answer:  # noqa: S310
                return answer.status, _json(answer.read())
        except urllib.error.HTTPError as error:
            found = _json(error.read())
            if error.code >= 500:
                raise ApiUnreachable(
                    f"{method} {url}: the API server answered {error.code} "
                    f"({found.get('message', error.reason)}); retrying may help."
                ) from None
            return error.code, found
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise ApiUnreachable(
                f"{method} {url}: {reason}; is the API server reachable from this pod?"
            ) from None


def _read(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


def _json(raw: bytes) -> dict[str, Any]:
    """A response body as JSON; a body that is not (a proxy's page) as its message."""
    try:
        found = json.loads(raw) if raw else {}
    except ValueError:
        return {"message": raw.decode(errors="replace")[:300]}
    return found if isinstance(found, dict) else {"message": str(found)}
