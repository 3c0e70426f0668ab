"""Default settings (default.toml) and the pydantic-settings model that loads them."""
