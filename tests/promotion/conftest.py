"""The serving tests' trained models, shared with the promotion tests."""

from __future__ import annotations

from tests.serving.conftest import trained

__all__ = ["trained"]
