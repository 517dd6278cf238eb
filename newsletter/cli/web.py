"""Commands of the web app: serving the reader's pages, and the proof of consent."""

from __future__ import annotations

import json

import click

from newsletter.app import serving, subscriptions
from newsletter.app.workspace import Workspace
from newsletter.cli.base import cli, err, out, workspace_of


@cli.command()
@click.option("--host", default=serving.LOCAL_HOST, show_default=True,
              help="Address to listen on: the TLS proxy in front of it connects here.")
@click.option("--port", default=serving.DEFAULT_PORT, show_default=True,
              type=click.IntRange(1, 65535))
@click.option("--local", is_flag=True,
              help="Try it on this machine: listen on 127.0.0.1 and use "
                   "http://127.0.0.1:PORT/ plus public_url's path as the public URL of this "
                   "run (pages, links in confirmation mails); print the sign-up and admin "
                   "login addresses.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, local: bool) -> None:
    """Serve the reader's pages (unsubscribe, subscribe, confirm, preferences) and the
    admin pages (admin/, see 'newsletter users') below [web] public_url, behind the
    association's TLS proxy.

    Only the proxies in [web] trusted_proxies may say who the client is
    (X-Forwarded-For): a sign-up's recorded address cannot be forged by anyone else.
    With --local there is no proxy: no forwarded header is believed.
    The access log never shows a query's values (the readers' tokens).
    """
    import uvicorn  # only this command needs the server

    from newsletter.web import create_app, log_config

    ws = workspace_of(ctx)
    if local:
        given = ctx.get_parameter_source("host") is not click.core.ParameterSource.DEFAULT
        if given and host != serving.LOCAL_HOST:
            raise click.UsageError(f"--local listens on {serving.LOCAL_HOST} only")
        ws = serving.local_workspace(ws, port)
    for warning in serving.start_checks(ws):
        err.print(warning, markup=False, soft_wrap=True)
    app = create_app(ws)
    if local:
        _say_where(ws)
    uvicorn.run(app, host=serving.LOCAL_HOST if local else host, port=port,
                proxy_headers=not local, forwarded_allow_ips=list(ws.config.web.trusted_proxies),
                server_header=False, log_config=log_config())


def _say_where(ws: Workspace) -> None:
    """The addresses of a local trial, before uvicorn's own lines."""
    web = ws.config.web
    out.print(f"Sign-up page: {web.page(serving.SIGNUP)}", markup=False, soft_wrap=True)
    out.print(f"Admin login:  {web.page(serving.ADMIN_LOGIN)} (an account first: "
              "newsletter users add NAME --role officer)", markup=False, soft_wrap=True)
    delivery = ws.config.delivery
    if delivery.transport == "outbox":
        out.print("Confirmation mails are written to "
                  f"{ws.relative(delivery.outbox)}/confirmations/.", markup=False,
                  soft_wrap=True)
    else:
        out.print(f"Confirmation mails go out through {delivery.transport}, to real "
                  "addresses, with links to this machine.", markup=False, soft_wrap=True)
    out.file.flush()  # before uvicorn's lines, also when the output is a pipe


@cli.command()
@click.argument("email")
@click.pass_context
def consent(ctx: click.Context, email: str) -> None:
    """Print the proof of consent of EMAIL: every sign-up, confirmation mail,
    confirmation, change and withdrawal, with its exact time (UTC), network address and
    browser, and the consent text as it was shown."""
    trail = subscriptions.consent(workspace_of(ctx), email)
    out.print(f"Address: {trail.email}", markup=False)
    if trail.recipient_id:
        out.print(f"Recipient id: {trail.recipient_id}", markup=False)
    s = trail.subscriber
    if s is not None:
        out.print(f"Web sign-up: {s.status}, language {s.language}, topics "
                  f"{', '.join(s.topics) or '(none)'}, since {s.created_at}"
                  + (f", confirmed {s.confirmed_at}" if s.confirmed_at else ""), markup=False)
    if trail.suppressed:
        out.print(f"Suppressed: {trail.suppressed}", markup=False)
    if not trail.events:
        out.print("No consent events are recorded for this address.")
        return
    for event in trail.events:
        out.print(f"\n{event.at}  {event.event}", markup=False)
        if event.ip or event.user_agent:
            out.print(f"  from {event.ip or '?'}  {event.user_agent or ''}".rstrip(),
                      markup=False, soft_wrap=True)
        for key, value in event.details.items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            out.print(f"  {key}: {shown}", markup=False, soft_wrap=True)
