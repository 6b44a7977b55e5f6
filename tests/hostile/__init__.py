"""Hostile and broken input: one file per failure class of issue 10."""
