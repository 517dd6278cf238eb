"""Multilingual newsletter and press distribution for an association of migrant clubs."""

from __future__ import annotations

__version__ = "0.1.0"
