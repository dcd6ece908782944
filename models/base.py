"""What every detector in `models` shares: the not-fitted error and the version-stamp check of saved state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class NotFittedError(ValueError, AttributeError):
    """Raised when a detector is used before `fit` (or before its state was loaded).

    It subclasses ValueError and AttributeError, like scikit-learn's `NotFittedError`, so callers written
    for either keep working.
    """


def check_is_fitted(estimator: object, attributes: tuple[str, ...]) -> None:
    """Raise NotFittedError unless every learned attribute in `attributes` is set on `estimator`."""
    missing = [name for name in attributes if not hasattr(estimator, name)]
    if missing:
        raise NotFittedError(
            f"this {type(estimator).__name__} is not fitted yet (missing {', '.join(missing)}); "
            "call fit(...) first or load a fitted state with from_dict/from_artifact"
        )


def check_state_header(state: Mapping[str, Any], *, kind: str, version: int) -> None:
    """Check the `kind` and `format_version` stamp of a serialized detector state, or raise ValueError."""
    if not isinstance(state, Mapping):
        raise ValueError(f"expected a JSON object for a {kind} state, got {type(state).__name__}")
    if state.get("kind") != kind:
        raise ValueError(f"expected a {kind!r} state, got kind {state.get('kind')!r}; is this the right artifact?")
    if state.get("format_version") != version:
        raise ValueError(
            f"{kind} state has format_version {state.get('format_version')!r}, this code reads version {version}; "
            "retrain with `homesafe train` or use the matching HomeSafe release"
        )
