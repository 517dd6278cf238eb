"""The web app: reader pages and the posts of mail providers, over the application layer."""
