"""Ingestion: read a delivered file, map it to the canonical schema, validate, load."""
