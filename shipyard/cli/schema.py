"""`shipyard schema DATA > schema.yaml`: infer a schema from a data file, as commented YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.options import DataArgument, FormatOption


def schema_command(
    data: DataArgument,
    label: Annotated[
        str | None,
        typer.Option("--label", help="The label column: marked absent in the SERVING environment."),
    ] = None,
    max_domain_size: Annotated[
        int,
        typer.Option(
            "--max-domain-size",
            min=0,
            help="The most distinct values a string column may have to get a domain.",
        ),
    ] = 50,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the schema to this file instead of stdout."),
    ] = None,
    data_format: FormatOption = "auto",
) -> None:
    """Infer a schema from a data file and print it as YAML to curate and pin.

    Redirect it to a file (`shipyard schema data.csv > schema.yaml`), edit it, then validate
    data with `shipyard validate DATA --schema schema.yaml`, or pin it in a pipeline with
    `import_schema(path="schema.yaml")`.
    """
    import sys

    from shipyard.components.ingest import load_dataset
    from shipyard.components.schema import schema_from_statistics, schema_header
    from shipyard.components.statistics import compute_dataset_statistics

    statistics = compute_dataset_statistics(load_dataset(data, format=data_format))
    schema = schema_from_statistics(statistics, label=label, max_domain_size=max_domain_size)
    text = schema.to_yaml(header=schema_header(Path(data).name, statistics.num_rows))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        sys.stderr.write(f"Wrote the schema of {len(schema.features)} features to {output}.\n")
