"""`KubeApi.in_pod`: the API server, namespace and credentials a task's pod sees, or those
`SHIPYARD_KUBE_API` / `SHIPYARD_KUBE_NAMESPACE` name outside a cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.compile.kube_api import ApiUnreachable, KubeApi
from shipyard.errors import PlatformError

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def _outside_a_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHIPYARD_KUBE_API", "SHIPYARD_KUBE_NAMESPACE", "KUBERNETES_SERVICE_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)


def account(tmp_path: Path, *, ca: bool = True) -> Path:
    (tmp_path / "namespace").write_text("team-a")
    (tmp_path / "token").write_text("t0k3n\n")
    if ca:
        (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    return tmp_path


def test_a_pod_reaches_its_api_server_with_its_service_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    api = KubeApi.in_pod(account(tmp_path))
    assert api == KubeApi(
        server="https://10.96.0.1:6443",
        namespace="team-a",
        token_file=tmp_path / "token",
        ca_file=tmp_path / "ca.crt",
    )
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    assert KubeApi.in_pod(account(tmp_path)).server == "https://[fd00::1]:6443"


def test_outside_a_cluster_the_environment_names_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPYARD_KUBE_API", "http://127.0.0.1:8001/")
    monkeypatch.setenv("SHIPYARD_KUBE_NAMESPACE", "ml")
    api = KubeApi.in_pod(tmp_path / "none")
    assert api == KubeApi(server="http://127.0.0.1:8001", namespace="ml")
    # kubectl proxy over http: the pod's CA is no use, its token still is.
    api = KubeApi.in_pod(account(tmp_path))
    assert api.ca_file is None and api.token_file == tmp_path / "token"


def test_no_server_at_all_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(PlatformError) as missing:
        KubeApi.in_pod(tmp_path)
    message = str(missing.value)
    assert "KUBERNETES_SERVICE_HOST is unset" in message
    assert f"{tmp_path / 'namespace'} is missing" in message
    assert "SHIPYARD_KUBE_API=http://127.0.0.1:8001 (kubectl proxy)" in message


def test_a_server_that_does_not_answer_is_unreachable() -> None:
    api = KubeApi(server="http://127.0.0.1:9", namespace="ml")  # the discard port: refused
    with pytest.raises(ApiUnreachable, match=r"GET http://127\.0\.0\.1:9/apis: .*reachable"):
        api.request("GET", "/apis")
