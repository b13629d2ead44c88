"""`ConfigError` and the small value checks `VAEConfig` validates its
fields with; each error names the field and the value received."""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """A config value is invalid, or a config file cannot be read."""


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value  # not NaN
        and value not in (float("inf"), float("-inf"))
    )


def check_positive_int(name: str, value: Any) -> None:
    if not is_int(value) or value <= 0:
        raise ConfigError(
            f"Expected `{name}` to be a positive integer. "
            f"Received: {name}={value!r}"
        )


def check_positive_float(name: str, value: Any) -> None:
    if not is_number(value) or value <= 0:
        raise ConfigError(
            f"Expected `{name}` to be a positive number. "
            f"Received: {name}={value!r}"
        )


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(
            f"Unknown {name} {value!r}. Choose one of: {', '.join(choices)}"
        )


def check_bool(name: str, value: Any, allowed: str = "true or false") -> None:
    if not isinstance(value, bool):
        raise ConfigError(
            f"Expected `{name}` to be {allowed}. Received: {name}={value!r}"
        )
