"""The security suite: what an outsider may send to the pages, the hooks and the commands."""
