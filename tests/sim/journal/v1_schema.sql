-- The journal schema as microfut v1 wrote it (frozen; no trade_tags, no events.session_id).
CREATE TABLE schema_version (
	version INTEGER NOT NULL,
	app VARCHAR NOT NULL,
	applied_ms INTEGER NOT NULL,
	description VARCHAR NOT NULL,
	PRIMARY KEY (version)
);
CREATE TABLE accounts (
	name VARCHAR NOT NULL,
	venue VARCHAR NOT NULL,
	currency VARCHAR NOT NULL,
	starting_balance VARCHAR,
	created_ms INTEGER NOT NULL,
	PRIMARY KEY (name)
);
CREATE TABLE sessions (
	id INTEGER NOT NULL,
	account VARCHAR NOT NULL,
	kind VARCHAR NOT NULL,
	params VARCHAR NOT NULL,
	started_ms INTEGER NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_sessions_account ON sessions (account);
CREATE TABLE events (
	id INTEGER NOT NULL,
	account VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	kind VARCHAR NOT NULL,
	ts_ms INTEGER NOT NULL,
	venue VARCHAR NOT NULL,
	symbol VARCHAR NOT NULL,
	payload VARCHAR NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_events_account_seq UNIQUE (account, seq)
);
CREATE INDEX ix_events_kind ON events (kind);
CREATE TABLE snapshots (
	account VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	ts_ms INTEGER NOT NULL,
	data VARCHAR NOT NULL,
	written_ms INTEGER NOT NULL,
	PRIMARY KEY (account)
);
CREATE TABLE orders (
	id INTEGER NOT NULL,
	account VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	ts_ms INTEGER NOT NULL,
	venue VARCHAR NOT NULL,
	symbol VARCHAR NOT NULL,
	order_id VARCHAR NOT NULL,
	event VARCHAR NOT NULL,
	side VARCHAR NOT NULL,
	order_type VARCHAR NOT NULL,
	contracts VARCHAR,
	price VARCHAR,
	trigger_price VARCHAR,
	stop_loss VARCHAR,
	take_profit VARCHAR,
	leverage VARCHAR,
	reduce_only BOOLEAN NOT NULL,
	reason VARCHAR NOT NULL,
	guard VARCHAR NOT NULL,
	tag VARCHAR,
	trade_id INTEGER,
	PRIMARY KEY (id),
	CONSTRAINT uq_orders_account_seq UNIQUE (account, seq)
);
CREATE INDEX ix_orders_order_id ON orders (order_id);
CREATE INDEX ix_orders_attr ON orders (account, symbol, trade_id);
CREATE TABLE fills (
	id INTEGER NOT NULL,
	account VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	ts_ms INTEGER NOT NULL,
	venue VARCHAR NOT NULL,
	symbol VARCHAR NOT NULL,
	order_id VARCHAR NOT NULL,
	side VARCHAR NOT NULL,
	contracts VARCHAR NOT NULL,
	price VARCHAR NOT NULL,
	fee VARCHAR NOT NULL,
	currency VARCHAR NOT NULL,
	liquidity VARCHAR NOT NULL,
	realized_pnl VARCHAR NOT NULL,
	contract_size VARCHAR NOT NULL,
	position_after VARCHAR NOT NULL,
	wallet_after VARCHAR NOT NULL,
	reason VARCHAR NOT NULL,
	trade_id INTEGER,
	PRIMARY KEY (id),
	CONSTRAINT uq_fills_account_seq UNIQUE (account, seq)
);
CREATE INDEX ix_fills_attr ON fills (account, symbol, trade_id);
CREATE TABLE trades (
	id INTEGER NOT NULL,
	account VARCHAR NOT NULL,
	trade_key VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	venue VARCHAR NOT NULL,
	symbol VARCHAR NOT NULL,
	side VARCHAR NOT NULL,
	open_ts_ms INTEGER NOT NULL,
	close_ts_ms INTEGER NOT NULL,
	entry_price VARCHAR NOT NULL,
	exit_price VARCHAR NOT NULL,
	contracts VARCHAR NOT NULL,
	contract_size VARCHAR NOT NULL,
	leverage VARCHAR NOT NULL,
	margin_mode VARCHAR NOT NULL,
	stop_at_entry VARCHAR,
	risk_at_entry VARCHAR,
	realized_pnl VARCHAR NOT NULL,
	fees VARCHAR NOT NULL,
	funding VARCHAR NOT NULL,
	net_pnl VARCHAR NOT NULL,
	currency VARCHAR NOT NULL,
	exit_reason VARCHAR NOT NULL,
	tag VARCHAR,
	PRIMARY KEY (id),
	CONSTRAINT uq_trades_account_key UNIQUE (account, trade_key)
);
CREATE INDEX ix_trades_close_ts_ms ON trades (close_ts_ms);
CREATE TABLE funding (
	id INTEGER NOT NULL,
	account VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	ts_ms INTEGER NOT NULL,
	venue VARCHAR NOT NULL,
	symbol VARCHAR NOT NULL,
	funding_time_ms INTEGER NOT NULL,
	rate VARCHAR NOT NULL,
	mark_price VARCHAR NOT NULL,
	contracts VARCHAR NOT NULL,
	contract_size VARCHAR NOT NULL,
	amount VARCHAR NOT NULL,
	currency VARCHAR NOT NULL,
	wallet_after VARCHAR NOT NULL,
	trade_id INTEGER,
	PRIMARY KEY (id),
	CONSTRAINT uq_funding_account_seq UNIQUE (account, seq)
);
CREATE INDEX ix_funding_attr ON funding (account, symbol, trade_id);
CREATE TABLE liquidations (
	id INTEGER NOT NULL,
	account VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	ts_ms INTEGER NOT NULL,
	venue VARCHAR NOT NULL,
	symbol VARCHAR NOT NULL,
	side VARCHAR NOT NULL,
	contracts VARCHAR NOT NULL,
	entry_price VARCHAR NOT NULL,
	mark_price VARCHAR NOT NULL,
	liquidation_price VARCHAR NOT NULL,
	close_price VARCHAR NOT NULL,
	margin_mode VARCHAR NOT NULL,
	leverage VARCHAR NOT NULL,
	tier INTEGER NOT NULL,
	mmr VARCHAR NOT NULL,
	cum VARCHAR NOT NULL,
	wallet_before VARCHAR NOT NULL,
	loss VARCHAR NOT NULL,
	fee VARCHAR NOT NULL,
	currency VARCHAR NOT NULL,
	rule VARCHAR NOT NULL,
	trade_id INTEGER,
	PRIMARY KEY (id),
	CONSTRAINT uq_liquidations_account_seq UNIQUE (account, seq)
);
CREATE INDEX ix_liquidations_attr ON liquidations (account, symbol, trade_id);
CREATE TABLE equity (
	id INTEGER NOT NULL,
	account VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	ts_ms INTEGER NOT NULL,
	wallet VARCHAR,
	equity VARCHAR,
	currency VARCHAR NOT NULL,
	source VARCHAR NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_equity_account_seq UNIQUE (account, seq)
);
CREATE TABLE trade_notes (
	id INTEGER NOT NULL,
	trade_id INTEGER NOT NULL,
	written_ms INTEGER NOT NULL,
	text VARCHAR NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(trade_id) REFERENCES trades (id)
);
CREATE INDEX ix_trade_notes_trade_id ON trade_notes (trade_id);
