"""The workspace: configuration, paths, languages, addresses and the state folder."""
