"""An artifact root on S3 (moto's server, a real process): a job's artifacts land in the
bucket under its project's prefix, and a model it pushed deploys from there."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.errors import ConfigError
from shipyard.platform.auth.accounts import Accounts
from shipyard.platform.jobs.packages import PackageStore
from shipyard.platform.jobs.packing import pack_directory
from shipyard.platform.jobs.queue import JobQueue
from shipyard.platform.jobs.records import NewJob
from shipyard.platform.jobs.spaces import packages_location, project_store_url
from shipyard.platform.models.deployment import Deployment
from shipyard.platform.models.registry import ModelRegistry
from shipyard.platform.settings import server_settings
from tests.environment import child_environment
from tests.platform.conftest import HOST
from tests.platform.jobs.workers import wait_for, worker_thread

if TYPE_CHECKING:
    from pathlib import Path

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

BUCKET = "shipyard"
ROOT = f"s3://{BUCKET}/team"
PIPELINE = """\
from pathlib import Path

from shipyard import Pipeline
from tests.platform.models import pushes


def pusher() -> Pipeline:
    return pushes.pushing(Path(__file__).parent / "models", "from-s3", name="fares")
"""


def test_an_object_store_root_needs_a_data_dir(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    with pytest.raises(ConfigError, match="--data-dir"):
        server_settings(store, ROOT)
    settings = server_settings(store, ROOT, tmp_path / "data")
    assert (settings.artifact_root, settings.data_dir, settings.remote) == (
        ROOT,
        tmp_path / "data",
        True,
    )
    local = server_settings(store, str(tmp_path / "root"))
    assert (local.data_dir, local.remote) == (tmp_path / "root", False)


@pytest.mark.slow
def test_a_job_on_an_s3_root_writes_its_projects_prefix_and_its_model_deploys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import s3fs

    from shipyard.testing.s3 import running_s3

    with running_s3(buckets=[BUCKET]) as s3:
        for key, value in {**s3, **child_environment(checkout_first=True)}.items():
            monkeypatch.setenv(key, value)
        s3fs.S3FileSystem.clear_instance_cache()
        data = tmp_path / "data"
        store_url = f"sqlite:///{data / 'store.db'}"
        data.mkdir()
        queue = JobQueue(store_url)
        try:
            Accounts(queue.database).add_project("demo", actor=HOST)
            work = tmp_path / "project"
            work.mkdir()
            (work / "pipeline.py").write_text(PIPELINE)
            packages = PackageStore(packages_location(ROOT))
            sha = packages.put(pack_directory(work, max_bytes=10**6))
            entrypoint = "shipyard run pipeline.py"
            job = queue.submit(NewJob("demo", "k", "ada", entrypoint, package=sha))[0]
            with worker_thread(queue, store_url, data, artifact_root=ROOT, lease_s=30):
                done = wait_for(queue, job.id, "SUCCEEDED", "FAILED", timeout_s=120)
            log = "".join(chunk.text for chunk in queue.read_log(job.id))
            assert done.state == "SUCCEEDED", log
            fs = s3fs.S3FileSystem(
                client_kwargs={"endpoint_url": s3["AWS_ENDPOINT_URL"]}, skip_instance_cache=True
            )
            stored = fs.find(f"{BUCKET}/team")
            assert f"{BUCKET}/team/packages/{sha}.tar.gz" in stored
            artifacts = [name for name in stored if "/packages/" not in name]
            assert artifacts, stored
            assert all(n.startswith(f"{BUCKET}/team/projects/demo/artifacts/") for n in artifacts)
            assert not (data / "work" / f"job-{job.id}-1").exists()

            def store_of(project: str) -> str:
                return project_store_url(store_url, data, project)

            registry = ModelRegistry(queue.database, store_of)
            registry.create_model("demo", "fares", actor=HOST)
            runs = [r for r in fs.ls(f"{BUCKET}/team/projects/demo/artifacts/pusher")]
            assert len(runs) == 1, runs
            version, created = registry.register_version(
                "demo", "fares", actor=HOST, run_id=runs[0].rsplit("/", 1)[1]
            )
            assert created
            assert version.push.path.startswith(f"{ROOT}/projects/demo/artifacts/pusher/"), version
            installed = Deployment.of(data, "demo", "live", "fares").install(version)
            assert (installed / "tag.txt").read_text() == "from-s3"
            assert installed == data / "endpoints" / "demo" / "live" / "models" / "fares" / "1"
        finally:
            queue.close()
            s3fs.S3FileSystem.clear_instance_cache()  # its clients name this server's port


def test_the_worker_command_names_the_flag_at_fault(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shipyard.cli.main import app

    store = ["--store", f"sqlite:///{tmp_path / 'store.db'}"]
    no_data_dir = CliRunner().invoke(app, ["worker", *store, "--artifact-root", ROOT])
    assert isinstance(no_data_dir.exception, ConfigError)  # the entry point prints it
    assert "--data-dir" in str(no_data_dir.exception.hint)
    bad_memory = CliRunner().invoke(app, ["worker", *store, "--memory", "lots"])
    assert bad_memory.exit_code == 2
    assert "--memory" in bad_memory.output and "'lots'" in bad_memory.output
