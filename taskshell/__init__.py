"""taskshell: a local SQL shell in which Snowflake- and Databend-style tasks and streams run."""

__version__ = "0.1.0"
