"""Fixtures of the models and endpoints tests: the serving tests' trained models."""

from __future__ import annotations

from tests.serving.conftest import trained

__all__ = ["trained"]
