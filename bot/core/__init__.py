"""Pure logic: no I/O, no clocks read, no aiohttp/slack_sdk/SQLAlchemy imports."""
