"""Catalogs, UI strings, machine drafts, checks, memory and the editions they allow."""
