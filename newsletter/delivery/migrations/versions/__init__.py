"""The revisions of the state schema, oldest first."""
