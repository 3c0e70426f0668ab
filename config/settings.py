"""The settings model: one frozen nested pydantic-settings model; a typo'd key is an error.

Layers, lowest first: ``config/default.toml`` < ``--config FILE`` < ``MICROFUT_SECTION__KEY``
environment variables < command flags (passed as ``overrides``).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from sim.errors import ConfigError

DEFAULT_FILE = Path(__file__).resolve().parent / "default.toml"
HOME_ENV = "MICROFUT_HOME"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExchangeSettings(_Section):
    default: str = Field("binanceusdm", description="ccxt id used when no --exchange is given")
    endpoint: str = Field("", description="base URL of a compatible exchange; empty = the venue's")


class AccountSettings(_Section):
    name: str = Field("main", min_length=1, description="paper account used by default")
    starting_balance: Decimal = Field(Decimal(1000), gt=0, description="opening wallet balance")
    currency: str = Field("USDT", min_length=1, description="currency of the opening balance")
    margin_mode: Literal["isolated", "cross"] = Field(
        "isolated", description="margin mode of a symbol's first order at the desk"
    )
    leverage: Decimal = Field(
        Decimal(20), gt=0, le=1000, description="leverage of a symbol's first order at the desk"
    )


class RiskSettings(_Section):
    risk_pct: Decimal = Field(Decimal(1), gt=0, le=100, description="% of equity at risk per trade")
    leverage_warning: Decimal = Field(Decimal(20), gt=0, description="warn above this leverage")
    daily_loss_limit_pct: Decimal = Field(Decimal(3), ge=0, le=100, description="daily loss lock")
    max_trades_per_day: int = Field(20, ge=0, description="entries per UTC day; 0 = unlimited")
    cooloff_minutes: int = Field(60, ge=0, description="length of a lock")
    confirm_notional_x_equity: Decimal = Field(
        Decimal(5), ge=0, description="desk asks y/n above this notional ÷ equity; 0 = never"
    )
    confirm_leverage: Decimal = Field(
        Decimal(20), ge=0, description="desk asks y/n above this leverage; 0 = never"
    )


class FillSettings(_Section):
    slippage_bps: Decimal = Field(Decimal(2), ge=0, le=1000, description="market-order slippage")
    upnl_price: Literal["mark", "last"] = Field("mark", description="price for unrealized PnL")


class DataSettings(_Section):
    home: str = Field("", description="data home; empty = $MICROFUT_HOME or the user data folder")
    dirs: list[str] = Field(default_factory=list, description="extra recorded-data folders")
    journal: str = Field("journal.sqlite", min_length=1, description="journal, under home")

    @property
    def home_path(self) -> Path:
        """Where microfut writes: $MICROFUT_HOME, else ``[data] home``, else the platform's.

        Never the installation: a wheel installed into site-packages must stay untouched.
        """
        chosen = os.environ.get(HOME_ENV) or self.home
        if chosen:
            return Path(chosen).expanduser().resolve()
        return default_home()

    @property
    def write_path(self) -> Path:
        """The data home (specs/, recordings/, logs/, sweeps/ and downloads/ live under it)."""
        return self.home_path

    @property
    def downloads_path(self) -> Path:
        """Market data fetched with ``microfut data download``."""
        return self.home_path / "downloads"

    @property
    def journal_path(self) -> Path:
        p = Path(self.journal).expanduser()
        return p if p.is_absolute() else self.home_path / p

    @property
    def data_dirs(self) -> list[Path]:
        """Read-only data folders, searched in order: configured, downloaded, bundled sample."""
        configured = [Path(d).expanduser().resolve() for d in self.dirs]
        return [*configured, self.downloads_path, bundled_dir()]


def default_home() -> Path:
    """The platform's user data folder for microfut (e.g. ~/.local/share/microfut)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("microfut", appauthor=False))


def bundled_dir() -> Path:
    """The compact real-data sample shipped inside the package (specs, tiers, BTC/ETH month)."""
    from microfut_data import SAMPLE_DIR

    return SAMPLE_DIR


class FeedSettings(_Section):
    stale_after_s: float = Field(10.0, gt=0)
    poll_interval_s: float = Field(2.0, gt=0)
    reconnect_initial_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)

    @field_validator("reconnect_max_s")
    @classmethod
    def _cap_not_below_start(cls, v: float, info: Any) -> float:
        start = info.data.get("reconnect_initial_s")
        if start is not None and v < start:
            raise ValueError("must be at least reconnect_initial_s")
        return v


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MICROFUT_", env_nested_delimiter="__", extra="forbid", frozen=True
    )
    _user_file: ClassVar[Path | None] = None

    exchange: ExchangeSettings = ExchangeSettings()
    account: AccountSettings = AccountSettings()
    risk: RiskSettings = RiskSettings()
    fills: FillSettings = FillSettings()
    data: DataSettings = DataSettings()
    feeds: FeedSettings = FeedSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._user_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._user_file))
        sources.append(TomlConfigSettingsSource(settings_cls, toml_file=DEFAULT_FILE))
        return tuple(sources)


def with_account(
    settings: Settings, *, margin_mode: str | None = None, leverage: str | None = None
) -> Settings:
    """``settings`` with the desk's ``--margin-mode``/``--leverage`` flags on top (validated)."""
    changes = {k: v for k, v in (("margin_mode", margin_mode), ("leverage", leverage)) if v}
    if not changes:
        return settings
    try:
        account = AccountSettings.model_validate({**settings.account.model_dump(), **changes})
    except ValidationError as e:
        err = e.errors()[0]
        flag = "--" + str(err["loc"][0]).replace("_", "-")
        raise ConfigError(f"bad value for {flag}: {err['msg']}") from None
    return settings.model_copy(update={"account": account})


def _check_toml(path: Path) -> None:
    try:
        with path.open("rb") as f:
            tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} was not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None
    except OSError as e:
        raise ConfigError(f"config file {path} could not be read: {e.strerror}") from None


def _env_var(key: str) -> str | None:
    """The MICROFUT_ environment variable that sets dotted ``key``, when one is set."""
    want = "MICROFUT_" + key.replace(".", "__").upper()
    return next((name for name in os.environ if name.upper() == want), None)


def _json_kind(key: str) -> str:
    """ "list" or "table" when dotted ``key`` is a setting read from the environment as JSON."""
    model: Any = Settings
    annotation: Any = None
    for part in key.split("."):
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return ""
        annotation = fields[part].annotation
        model = annotation
    if get_origin(annotation) is list:
        return "list"
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return "table" if is_model or get_origin(annotation) is dict else ""


def _env_error(e: SettingsError) -> ConfigError:
    """One line naming the environment variable pydantic-settings could not parse."""
    found = re.search(r'field "(\w+)"', str(e))
    section = found.group(1) if found else ""
    prefix = f"MICROFUT_{section}".upper()
    names = sorted(n for n in os.environ if n.upper().split("__")[0] == prefix)
    for name in names:
        key = name[len("MICROFUT_") :].lower().replace("__", ".")
        kind = _json_kind(key)
        if not kind:
            continue
        try:
            json.loads(os.environ[name])
        except ValueError as bad:
            example = '["/path/to/data"]' if kind == "list" else '{"key": "value"}'
            return ConfigError(
                f"bad value for setting '{key}' (from environment variable {name}): "
                f"not valid JSON ({getattr(bad, 'msg', bad)}); a {kind} is written as JSON, "
                f"e.g. {name}='{example}'"
            )
    shown = ", ".join(names) or f"{prefix}*"
    cause = e.__cause__ or e
    return ConfigError(
        f"bad value for setting '{section}' (from environment variable {shown}): "
        f"{str(cause).splitlines()[0]}"
    )


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Load the layered settings; raise ConfigError naming the key for anything wrong.

    ``overrides`` are command flags as nested dicts, e.g. ``account={"starting_balance": 500}``.
    """
    _check_toml(DEFAULT_FILE)
    if config_file is not None:
        _check_toml(config_file)
    Settings._user_file = config_file
    try:
        return Settings(**overrides)
    except SettingsError as e:  # an environment variable that does not parse (JSON for lists)
        raise _env_error(e) from None
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        env = _env_var(key) or _env_var(key.split(".")[0])
        where = f" in {config_file}" if config_file and not env else ""
        where += f" (from environment variable {env})" if env else ""
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"unknown setting '{key}'{where}") from None
        raise ConfigError(f"bad value for setting '{key}'{where}: {err['msg']}") from None
    finally:
        Settings._user_file = None
