"""`shipyard feedback` stores labels for a model whose requests are logged, and says which."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.cli.feedback import _model
from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    from pathlib import Path


def test_the_model_is_the_only_one_logged_or_one_that_is(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="needed: it holds no model's requests"):
        _model(tmp_path, None)
    (tmp_path / "taxi" / "3").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    assert _model(tmp_path, None) == "taxi" == _model(tmp_path, "taxi")
    with pytest.raises(InvalidParameterError, match=r"it holds the models taxi\. Got 'taxii'"):
        _model(tmp_path, "taxii")
    (tmp_path / "penguins").mkdir()
    with pytest.raises(InvalidParameterError, match="needed: it holds the models penguins, taxi"):
        _model(tmp_path, None)
