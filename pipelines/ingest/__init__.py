"""Ingestion: from a file in the drop zone to landed Parquet, quarantine and ledger."""
