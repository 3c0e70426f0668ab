"""The settings model: one frozen nested pydantic-settings model; a typo'd key is an error.

Layers, lowest first: ``config/default.toml`` < ``--config FILE`` < ``MICROFUT_SECTION__KEY``
environment variables < command flags (passed as ``overrides``).
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from sim.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = Path(__file__).resolve().parent / "default.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExchangeSettings(_Section):
    default: str = Field("binanceusdm", description="ccxt id used when no --exchange is given")
    endpoint: str = Field("", description="base URL of a compatible exchange; empty = the venue's")


class AccountSettings(_Section):
    name: str = Field("main", min_length=1, description="paper account used by default")
    starting_balance: Decimal = Field(Decimal(1000), gt=0, description="opening wallet balance")
    currency: str = Field("USDT", min_length=1, description="currency of the opening balance")


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
    dirs: list[str] = Field(default_factory=lambda: ["../shared/data"])
    write_dir: str = "data"
    journal: str = "data/journal.sqlite"

    def resolve(self, path: str) -> Path:
        """Resolve a configured path against the project folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (PROJECT_ROOT / p).resolve()

    @property
    def data_dirs(self) -> list[Path]:
        return [self.resolve(d) for d in self.dirs]

    @property
    def write_path(self) -> Path:
        return self.resolve(self.write_dir)

    @property
    def journal_path(self) -> Path:
        return self.resolve(self.journal)


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
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        where = f" in {config_file}" if config_file else ""
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"unknown setting '{key}'{where}") from None
        raise ConfigError(f"bad value for setting '{key}'{where}: {err['msg']}") from None
    finally:
        Settings._user_file = None
