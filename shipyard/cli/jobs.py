"""`shipyard jobs`: submit jobs to a platform server and follow them.

The server is `--server` or `SHIPYARD_SERVER` (default http://127.0.0.1:8000), the API token
`--token` or `SHIPYARD_TOKEN`. `submit` packs the working directory (the files git would
commit), uploads it and submits the command after `--`; with `--wait` it prints the job's
log as it is written and exits 0 if the job succeeded, 1 otherwise.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli.options import JsonOption, memory_option

if TYPE_CHECKING:
    from shipyard.platform.jobs.client import JobsClient

app = typer.Typer(help="Submit jobs to a platform server and follow them.", rich_markup_mode=None)

ServerOption = Annotated[
    str,
    typer.Option("--server", envvar="SHIPYARD_SERVER", help="The platform server's URL."),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="SHIPYARD_TOKEN",
        help="Your API token (shipyard tokens create NAME).",
        show_default=False,
    ),
]
JobArgument = Annotated[int, typer.Argument(metavar="JOB_ID", help="The job's id.")]
_DEFAULT_SERVER = "http://127.0.0.1:8000"


def _client(server: str, token: str | None) -> JobsClient:
    from shipyard.platform.jobs.client import JobsClient

    return JobsClient(server, token=token)


@app.command("submit")
def submit_command(
    entrypoint: Annotated[
        list[str], typer.Argument(metavar="-- COMMAND...", help="The command line to run.")
    ],
    project: Annotated[str, typer.Option("--project", help="The project to run it in.")],
    submission_id: Annotated[
        str | None,
        typer.Option(
            "--submission-id",
            help="An idempotency key: submitting it again answers with the same job.",
            show_default=False,
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Print the job's log live; exit with its outcome.")
    ] = False,
    working_dir: Annotated[
        Path, typer.Option("--working-dir", help="The directory to pack and run the job in.")
    ] = Path("."),
    no_package: Annotated[
        bool, typer.Option("--no-package", help="Send no working directory (an empty one).")
    ] = False,
    max_package_bytes: Annotated[
        int, typer.Option("--max-package-bytes", min=1, help="The largest package to upload.")
    ] = 100 * 1024 * 1024,
    num_cpus: Annotated[
        float | None,
        typer.Option("--num-cpus", min=0, help="CPUs the job asks for.", show_default=False),
    ] = None,
    num_gpus: Annotated[
        float | None,
        typer.Option("--num-gpus", min=0, help="GPUs the job asks for.", show_default=False),
    ] = None,
    memory: Annotated[
        str | None,
        typer.Option(
            "--memory",
            help="Memory the job asks for: bytes, or a size such as 4GiB.",
            show_default=False,
        ),
    ] = None,
    max_attempts: Annotated[
        int,
        typer.Option("--max-attempts", min=1, max=10, help="Tries if its worker dies."),
    ] = 3,
    server: ServerOption = _DEFAULT_SERVER,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Pack the working directory, upload it and run a command in it on the server."""
    from shipyard.cli.output import console, print_json
    from shipyard.platform.jobs.packing import pack_directory

    client = _client(server, token)
    body: dict[str, Any] = {"entrypoint": shlex.join(entrypoint), "project": project}
    if submission_id:
        body["submission_id"] = submission_id
    if num_cpus is not None:
        body["entrypoint_num_cpus"] = num_cpus
    if num_gpus is not None:
        body["entrypoint_num_gpus"] = num_gpus
    if memory is not None:
        body["entrypoint_memory"] = memory_option(memory)
    body["max_attempts"] = max_attempts
    if not no_package:
        data = pack_directory(working_dir.resolve(), max_bytes=max_package_bytes)
        body["runtime_env"] = {"working_dir": client.upload_package(project, data)}
    answer = client.submit(body)
    if json_output and not wait:
        print_json(answer)
        return
    console(stderr=True).print(
        f"Job {answer['job_id']} submitted ({answer['submission_id']}).", markup=False
    )
    if wait:
        _follow(client, int(answer["job_id"]), json_output=json_output)


def _follow(client: JobsClient, job_id: int, *, json_output: bool) -> None:
    from shipyard.cli.output import console, print_json

    job: dict[str, Any] = {}
    for event, data in client.tail(job_id):
        if event == "log":
            sys.stdout.write(data)
            sys.stdout.flush()
        elif event == "end":
            job = data
    if not job:
        console(stderr=True).print(f"Job {job_id} was deleted before it ended.", markup=False)
        raise typer.Exit(1)
    if json_output:
        print_json(job)
    console(stderr=True).print(f"Job {job_id} {job['status']}: {job['message']}", markup=False)
    if job["status"] != "SUCCEEDED":
        raise typer.Exit(1)


@app.command("list")
def list_command(
    project: Annotated[
        str | None, typer.Option("--project", help="Only this project's jobs.", show_default=False)
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="Only jobs in these states, comma-separated.", show_default=False
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="At most this many.")] = 50,
    server: ServerOption = _DEFAULT_SERVER,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """List jobs, newest first, with why each is in its state."""
    from rich.table import Table

    from shipyard.cli.output import console, print_json

    jobs = _client(server, token).list_jobs(project=project, status=status, limit=limit)
    if json_output:
        print_json({"jobs": jobs})
        return
    table = Table("ID", "Project", "Status", "Submitter", "Entrypoint", "Message")
    for job in jobs:
        table.add_row(
            str(job["job_id"]), job["project"], job["status"], job["submitter"],
            job["entrypoint"], job["message"],
        )  # fmt: skip
    console().print(table)


@app.command("status")
def status_command(
    job_id: JobArgument,
    server: ServerOption = _DEFAULT_SERVER,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show one job: its state and why, attempts, worker and times."""
    from shipyard.cli.output import console, print_json

    job = _client(server, token).get(job_id)
    if json_output:
        print_json(job)
        return
    for key in ("job_id", "project", "status", "message", "entrypoint", "submitter",
                "attempts", "max_attempts", "worker", "exit_code", "created_at", "started_at",
                "ended_at"):  # fmt: skip
        console().print(f"{key + ':':14} {job[key]}", markup=False, soft_wrap=True)


@app.command("logs")
def logs_command(
    job_id: JobArgument,
    follow: Annotated[
        bool,
        typer.Option("--follow", "-f", help="Print the log as it is written until the job ends."),
    ] = False,
    server: ServerOption = _DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Print a job's log (stdout and stderr of its process, every attempt)."""
    client = _client(server, token)
    if not follow:
        sys.stdout.write(client.logs(job_id))
        return
    for event, data in client.tail(job_id):
        if event == "log":
            sys.stdout.write(data)
            sys.stdout.flush()


def _change_command(action: str, summary: str) -> None:
    """Register `shipyard jobs ACTION JOB_ID`, which posts the change and prints the job."""

    def command(
        job_id: JobArgument,
        server: ServerOption = _DEFAULT_SERVER,
        token: TokenOption = None,
        json_output: JsonOption = False,
    ) -> None:
        from shipyard.cli.output import console, print_json

        client = _client(server, token)
        job = {"stop": client.stop, "retry": client.retry, "delete": client.delete}[action](job_id)
        if json_output:
            print_json(job)
        elif action == "delete":
            console().print(f"Job {job_id} deleted.", markup=False)
        else:
            console().print(f"Job {job_id} {job['status']}: {job['message']}", markup=False)

    command.__doc__ = summary
    app.command(action)(command)


_change_command("stop", "Stop a job: a pending one at once, a running one within seconds.")
_change_command("retry", "Queue a job that ended (failed, stopped or succeeded) again.")
_change_command("delete", "Delete a job that ended, with its logs.")
