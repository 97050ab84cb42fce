"""Test helpers that are not fixtures (the throwaway PostgreSQL cluster)."""
