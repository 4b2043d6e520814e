"""Command-line tasks: `flask --app wsgi <command>` (the launcher runs `init` itself)."""

from __future__ import annotations

import secrets

import click
from flask import current_app
from sqlalchemy import func, select

from campaigns.optout import seed_stop_words
from inbox.auth import create_user
from inbox.calendars import seed_holidays
from inbox.catalogue import seed_default as seed_catalogue
from inbox.channels import seed_accounts
from inbox.db import session
from inbox.migrate import upgrade
from inbox.models import ROLES, User


def initialise() -> str | None:
    """Upgrade the database, seed channel accounts and create the first admin; returns a generated password."""
    config = current_app.config
    upgrade(config["DATABASE_URL"])
    seed_accounts()
    seed_holidays()
    seed_stop_words()
    seed_catalogue()
    generated = None
    if not session().scalar(select(func.count(User.id))):
        password = config.get("ADMIN_PASSWORD")
        if not password:
            password = generated = secrets.token_urlsafe(12)
        create_user(config["ADMIN_EMAIL"], "Administrator", "admin", password)
    session().commit()
    return generated


def run_worker(burst: bool = False) -> None:
    """Work the job queue (with RQ's scheduler, which runs delayed retries) until stopped."""
    from campaigns.sending import resume_running
    from inbox import assignment, broker, jobs, sla
    from inbox.intake import process_pending
    from inbox.jobs import AppWorker

    worker = AppWorker([broker.queue()], connection=broker.connection(), app=current_app._get_current_object())
    resume_running()  # campaigns whose send loops a crash or a restart took
    if current_app.config["INTAKE_MODE"] == "deferred":
        # Deliveries kept while Redis or the worker was down are drained at start, not at the next delivery.
        jobs.enqueue(process_pending)
    # The sweeps re-schedule themselves; started here so that they survive restarts (one chain each: their job
    # ids are time slots). The commitments' warnings are rebuilt from the database after any downtime.
    assignment.schedule_sweep(delay=1)
    sla.schedule_sweep(delay=1)
    worker.work(with_scheduler=True, burst=burst, logging_level="INFO")


def register(app) -> None:
    """Attach the commands to the app."""

    @app.cli.command("init")
    def init_command():
        """Upgrade the database, seed channel accounts, create the first admin."""
        generated = initialise()
        if generated:
            click.echo(f"Admin {current_app.config['ADMIN_EMAIL']} created with password: {generated}")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.password_option()
    def create_user_command(email, name, role, password):
        """Add a user."""
        create_user(email, name, role, password)
        session().commit()
        click.echo(f"{role} {email} created")

    @app.cli.command("seed-catalogue")
    def seed_catalogue_command():
        """Add the default qualification catalogue when the catalogue is empty (safe to run again)."""
        added = seed_catalogue()
        session().commit()
        click.echo(f"{added} catalogue items added" if added else "The catalogue is not empty: nothing added")

    @app.cli.command("import-customers")
    @click.argument("csv_file", type=click.File("rb"))
    def import_customers_command(csv_file):
        """Import the customer directory from a CSV file (upsert on the CIL); prints the report."""
        from inbox.directory import UnreadableFile, import_customers

        try:
            report = import_customers(csv_file)
        except UnreadableFile as failure:
            raise click.ClickException(str(failure)) from failure
        click.echo(
            f"created {report['created']}, updated {report['updated']}, unchanged {report['unchanged']},"
            f" rejected {report['rejected_count']}"
        )
        for row in report["rejected"]:
            click.echo(f"line {row['line']} (CIL {row['cil'] or '-'}): {' '.join(row['reasons'])}")

    @app.cli.command("campaign-limits")
    @click.argument("account_id", type=int)
    @click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="Campaign sends per second at most.")
    @click.option("--daily-cap", type=click.IntRange(min=1), help="Campaign sends in any 24 hours at most.")
    @click.option("--default", "reset", is_flag=True, help="Back to the platform's defaults first.")
    def campaign_limits_command(account_id, rate, daily_cap, reset):
        """Show or set a channel account's campaign limits (rate, daily cap); unset ones are the platform's."""
        from campaigns import limits
        from inbox.models import ChannelAccount

        account = session().get(ChannelAccount, account_id)
        if account is None:
            raise click.ClickException(f"No channel account {account_id}.")
        if reset:
            account.campaign_rate = account.campaign_daily_cap = None
        if rate is not None:
            account.campaign_rate = rate
        if daily_cap is not None:
            account.campaign_daily_cap = daily_cap
        allowed = limits.for_account(account)
        session().commit()
        cap = allowed.daily_cap if allowed.daily_cap else "none"
        click.echo(f"{account.name} ({account.platform}): {allowed.rate:g} per second, daily cap {cap}")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    def worker_command(burst):
        """Run an RQ worker with its scheduler."""
        run_worker(burst)
