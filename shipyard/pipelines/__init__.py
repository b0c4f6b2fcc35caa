"""Standard pipelines: the usual wiring of the standard components, as one function call.

`tabular_pipeline` is ingest → statistics → schema → validation → transform → train →
evaluate (against the last blessed model) → push: what `shipyard train` runs, what the
examples declare, and a starting point for a user's own pipeline file. Nothing here is built
in that a user could not write: it is the same wiring written once.

This layer builds `Pipeline`s from `shipyard.components` and `shipyard.dsl`; it never imports
runners, engines or the store. Importing it imports no data library.
"""

from __future__ import annotations

from shipyard.pipelines.tabular import DEFAULT_MAX_REGRESSION, tabular_pipeline

__all__ = ["DEFAULT_MAX_REGRESSION", "tabular_pipeline"]
