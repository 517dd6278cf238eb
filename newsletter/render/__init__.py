"""Rendering editions: Jinja2 templates, CSS inlining, right-to-left text, previews."""
