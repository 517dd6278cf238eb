"""The application layer: one function per use case, for the command line and the web app."""
