"""Releases: the model of a press release or news item and its parser."""
