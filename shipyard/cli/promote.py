"""`shipyard promote MODEL --server URL`: promote a canary to stable, or roll it back.

Reads the model's `stable` and `canary` labels from the model config, the two versions'
live figures from the server's `/metrics`, and decides (`shipyard.promotion.decision`): a
promotion or rollback is written to the model config (the server reloads it) and recorded
in the store. Exit codes: 0 promoted, 1 rolled back, 2 the command could not run, 3 not
decided yet (too few requests; `--watch` waits instead).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.options import JsonOption, ModelConfigOption, ModelsDirOption, StoreOption

if TYPE_CHECKING:
    from shipyard.promotion.records import PromotionRecord

EXIT_ROLLED_BACK = 1
EXIT_USAGE = 2
EXIT_UNDECIDED = 3


def promote_command(
    model: Annotated[str, typer.Argument(help="The model's name (its directory under BASE).")],
    server: Annotated[
        str, typer.Option("--server", help="The server's URL, e.g. http://127.0.0.1:8501.")
    ],
    models_dir: ModelsDirOption = Path("models"),
    model_config: ModelConfigOption = None,
    min_requests: Annotated[
        int, typer.Option("--min-requests", help="Requests the canary must take first.")
    ] = 100,
    max_error_rate: Annotated[
        float,
        typer.Option(
            "--max-error-rate", help="How much the canary's error rate may exceed stable's."
        ),
    ] = 0.01,
    max_latency_ratio: Annotated[
        float,
        typer.Option(
            "--max-latency-ratio", help="How many times stable's mean latency the canary's may be."
        ),
    ] = 1.5,
    watch: Annotated[
        bool, typer.Option("--watch", help="Check again until the canary is decided.")
    ] = False,
    interval_s: Annotated[
        float, typer.Option("--interval-s", min=0.0, help="Seconds between checks (--watch).")
    ] = 10.0,
    timeout_s: Annotated[
        float | None,
        typer.Option(
            "--timeout-s", min=0.0, help="Stop watching after this long.", show_default=False
        ),
    ] = None,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Promote a canary to stable if its live figures match stable's, else roll it back.

    Exit codes: 0 promoted, 1 rolled back, 2 the command could not run, 3 not decided yet.
    """
    from shipyard.cli.output import print_error, print_json
    from shipyard.errors import ShipyardError
    from shipyard.promotion.controller import PromotionTarget, watch_canary
    from shipyard.promotion.decision import PromotionPolicy
    from shipyard.runners import Project

    def waiting(record: PromotionRecord) -> None:
        typer.echo(f"Waiting: {record.reason}", err=True)

    try:
        policy = PromotionPolicy(min_requests, max_error_rate, max_latency_ratio)
        config = (model_config or models_dir / "models.yaml").expanduser().resolve()
        target = PromotionTarget(model=model, server=server, model_config=config)
        with Project.open(store=store) as project:
            record = watch_canary(
                target,
                policy,
                project.store,
                watch=watch,
                interval_s=interval_s,
                timeout_s=timeout_s,
                on_wait=waiting,
            )
    except ShipyardError as error:
        print_error(error)
        raise typer.Exit(EXIT_USAGE) from None
    if json_output:
        print_json(record.to_json())
    else:
        typer.echo(describe(record))
    if record.action == "roll_back":
        raise typer.Exit(EXIT_ROLLED_BACK)
    if record.action == "wait":
        raise typer.Exit(EXIT_UNDECIDED)


def describe(record: PromotionRecord) -> str:
    """One line saying what was decided about the canary, and why."""
    canary = f"{record.model} version {record.canary}"
    if record.action == "promote":
        return f"Promoted {canary} to stable: {record.reason}"
    if record.action == "roll_back":
        stable = "no stable version" if record.stable is None else f"version {record.stable}"
        return f"Rolled back {canary} ({stable} stays stable): {record.reason}"
    return f"Not decided yet on {canary}: {record.reason}"
