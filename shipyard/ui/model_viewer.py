"""The viewer of a `Model` artifact: its signature, its model card, and its files.

Built from the artifact's JSON (`preview` of `shipyard.artifacts.Model`: the signature's
inputs and outputs, `model_card.json`, the files with their sizes), the same the API returns.
"""

from __future__ import annotations

from typing import Any

from shipyard.ui.html import escape, key_values, link, number, records_table, value_text

CARD_FACTS = ("name", "task", "task_reason", "estimator", "label", "classes", "positive_class")


def render_model(artifact: dict[str, Any]) -> str:
    """The signature, model card and files of a model artifact."""
    preview = artifact["preview"] or {}
    parts = [_files(artifact, preview.get("files", []))]
    if "inputs" in preview:
        parts.insert(0, _signature(preview))
        parts.insert(1, _card(preview.get("card", {})))
    return "".join(parts)


def size_text(size_bytes: int) -> str:
    """A file size as `812 B`, `12.4 kB`, `3.1 MB` (powers of 1,000)."""
    if size_bytes < 1000:
        return f"{size_bytes} B"
    value = size_bytes / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _signature(preview: dict[str, Any]) -> str:
    vocabulary = preview.get("label_vocabulary")
    labels = (
        f"<p>Label vocabulary: {escape(', '.join(map(str, vocabulary)))}</p>" if vocabulary else ""
    )
    return (
        "<section aria-labelledby=signature-title><h2 id=signature-title>Signature</h2>"
        f"<p>Task: <strong>{escape(preview.get('task'))}</strong></p>{labels}"
        f"{_tensors(preview['inputs'], 'Inputs', optional=True)}"
        f"{_tensors(preview.get('outputs', []), 'Outputs', optional=False)}</section>"
    )


def _tensors(specs: list[dict[str, Any]], caption: str, *, optional: bool) -> str:
    heads = ["Name", "Dtype", "Shape"] + (["Optional"] if optional else [])
    rows = "".join(
        f"<tr><th scope=row><code>{escape(spec['name'])}</code></th>"
        f"<td>{escape(spec.get('dtype', ''))}</td><td><code>{escape(_shape(spec))}</code></td>"
        + (f"<td>{'yes' if spec.get('optional') else 'no'}</td>" if optional else "")
        + "</tr>"
        for spec in specs
    )
    head = "".join(f"<th scope=col>{h}</th>" for h in heads)
    return (
        f"<table class=grid><caption>{caption} ({len(specs)})</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


def _shape(spec: dict[str, Any]) -> str:
    """`[batch, 1]`: None (the batch or an unknown dimension) as `batch` first, `?` after."""
    shape = spec.get("shape") or []
    named = [
        "batch" if d is None and i == 0 else "?" if d is None else str(d)
        for i, d in enumerate(shape)
    ]
    return f"[{', '.join(named)}]"


def _card(card: dict[str, Any]) -> str:
    if not card:
        return "<p class=muted>The model has no model card.</p>"
    facts = {k: card[k] for k in CARD_FACTS if card.get(k) is not None}
    metrics = "".join(
        f"<tr><th scope=row>{escape(name)}</th><td class=num>"
        f"{escape(number(value) if isinstance(value, float) else value_text(value))}</td></tr>"
        for name, value in card.get("metrics", {}).items()
    )
    metrics_table = (
        f"<table class=kv><caption>Metrics</caption>{metrics}</table>"
        if metrics
        else "<p class=muted>No metrics.</p>"
    )
    lineage = "".join(
        f"<tr><th scope=row>{escape(name)}</th><td>{_lineage_value(name, value)}</td></tr>"
        for name, value in card.get("lineage", {}).items()
    )
    return (
        "<section aria-labelledby=card-title><h2 id=card-title>Model card</h2><div class=facts>"
        f"{key_values(facts, caption='Model')}{key_values(card.get('data', {}), caption='Data')}"
        f"{metrics_table}{key_values(card.get('training', {}), caption='Training')}"
        f"<table class=kv><caption>Lineage</caption>{lineage}</table></div>"
        f"{_features(card.get('features', []))}"
        f"{key_values(card.get('parameters', {}), caption='Parameters')}</section>"
    )


def _features(features: list[dict[str, Any]]) -> str:
    """The card's features as the model sees them: how each is encoded (`kind`) and, for a
    categorical one, how many ids its vocabulary holds."""
    if not features:
        return ""
    caption = f"Features ({len(features)}), as the model encodes them"
    return records_table(features, caption=caption, row_header="name")


def _lineage_value(name: str, value: Any) -> str:
    """An artifact id (`examples_id`...) as a link to its page; anything else as text."""
    if name.endswith("_id") and isinstance(value, int):
        return link(f"/artifacts/{value}", f"artifact #{value}")
    return escape(value_text(value))


def _files(artifact: dict[str, Any], files: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><th scope=row>{_file_link(artifact, item['name'])}</th>"
        f"<td class=num>{size_text(item['size_bytes'])}</td></tr>"
        for item in files
    )
    total = sum(item["size_bytes"] for item in files)
    return (
        "<section aria-labelledby=files-title><h2 id=files-title>Files</h2>"
        f"<table class=grid><caption>{len(files)} files, {size_text(total)}</caption>"
        "<thead><tr><th scope=col>File</th><th scope=col class=num>Size</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _file_link(artifact: dict[str, Any], name: str) -> str:
    """A top-level file links to the file route; a nested one is named only."""
    if "/" in name:
        return f"<code>{escape(name)}</code>"
    return link(f"/artifacts/{artifact['id']}/files/{name}", name)
