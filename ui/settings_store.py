"""Where the app keeps what staff change: the engine's TOML config and the app's own small settings file.

`<home>/studybuddy.toml` (or $STUDYBUDDY_CONFIG) holds what `Config.load` reads: generator, library and the
[verification] numbers. `<home>/ui_settings.toml` holds only the app's own keys: the staff passcode (the
environment variable STUDYBUDDY_STAFF_PASSCODE wins over it) and the pause switch.
"""

from __future__ import annotations

import hmac
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from engine.core.files import write_text_atomic

PASSCODE_ENV = "STUDYBUDDY_STAFF_PASSCODE"


@dataclass(frozen=True)
class UiSettings:
    staff_passcode: str = ""
    paused: bool = False


def config_path(config: Config) -> Path:
    """The TOML file `Config.load()` reads by default."""
    env = os.environ.get("STUDYBUDDY_CONFIG")
    return Path(env) if env else config.home / "studybuddy.toml"


def ui_settings_path(config: Config) -> Path:
    return config.home / "ui_settings.toml"


def read_ui_settings(config: Config) -> UiSettings:
    raw = _read_toml(ui_settings_path(config))
    return UiSettings(staff_passcode=str(raw.get("staff_passcode", "")), paused=bool(raw.get("paused", False)))


def set_paused(config: Config, paused: bool) -> None:
    path = ui_settings_path(config)
    write_toml(path, {**_read_toml(path), "paused": paused})


def staff_passcode(config: Config) -> str:
    return os.environ.get(PASSCODE_ENV) or read_ui_settings(config).staff_passcode


def passcode_matches(config: Config, attempt: str) -> bool:
    expected = staff_passcode(config)
    return bool(expected) and hmac.compare_digest(attempt.encode(), expected.encode())


def save_engine_settings(config: Config, top: dict, verification: dict) -> Path:
    """Merge top-level keys and [verification] keys into the config TOML, keeping everything else in it."""
    path = config_path(config)
    raw = _read_toml(path)
    if isinstance(raw.get("generator"), dict) and "generator" in top:  # the [generator] table form: keep its settings
        top = dict(top)
        raw["generator"] = {**raw["generator"], "model": top.pop("generator")}
    raw.update(top)
    raw["verification"] = {**raw.get("verification", {}), **verification}
    write_toml(path, raw)
    Config.load(path)  # refuse to leave behind a file the engine cannot read
    return path


def _read_toml(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise StudyBuddyError(f"The settings file {path} is not valid TOML: {err}.", "Fix or delete the file.") from err


def write_toml(path: Path, data: dict) -> None:
    """A tiny TOML writer for flat keys and one level of tables; written beside and swapped in."""
    scalars = [f"{key} = {_value(v)}" for key, v in data.items() if not isinstance(v, dict)]
    tables = [
        "\n".join([f"[{key}]"] + [f"{k} = {_value(v)}" for k, v in table.items()])
        for key, table in data.items()
        if isinstance(table, dict)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, "\n\n".join(p for p in ["\n".join(scalars), *tables] if p) + "\n")


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        escaped = v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{escaped}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise StudyBuddyError(f"Cannot write {type(v).__name__} to a settings file.", "")
