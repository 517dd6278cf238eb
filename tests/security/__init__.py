"""The security suite: what an outsider (a visitor, a mail provider's post, a forged
URL, a crafted file) could do, by the categories of the attack runs of issue 20:
headers, webhooks, web (reader and admin), state, CLI and secrets."""
