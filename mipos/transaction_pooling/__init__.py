"""The database backend for PgBouncer in transaction mode (DB_TRANSACTION_POOLING=1)."""
