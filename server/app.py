"""Builds one server application: its own engine, session factory, notifier and dispatcher.

Nothing is created at import time, so a test or `homesafe demo` can run several apps, each with its
own settings and database, in one process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gateway.protocol import BrokerSettings
from server.acklinks import ensure_link_secret
from server.api.main import api_router
from server.api.routes import acklinks, webhooks
from server.config import ServerSettings
from server.dashboard import mount_dashboard
from server.db.session import create_schema, make_engine, make_sessionmaker
from server.dispatch import Dispatcher
from server.escalation import EscalationConfig, wakeups
from server.escalation.acks import AckPublisher
from server.escalation.scheduler import EscalationScheduler
from server.notifiers import Notifier, make_notifier
from server.notifiers.ratelimit import RateLimitedNotifier

_LOGGER = logging.getLogger(__name__)


def create_app(settings: ServerSettings, *, notifier: Notifier | None = None) -> FastAPI:
    """The FastAPI app for `settings`; the schema is created, and the dispatcher, the escalation scheduler
    and (with `mqtt_url`) the ack publisher run, during its lifespan.

    Args:
        settings: the server's settings.
        notifier: overrides the one named in `settings.notifier` (e.g. a console outbox on a test stream).
    """
    settings = ensure_link_secret(settings)  # before anything keeps the settings: ack links are signed with it
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    escalation = EscalationConfig.from_settings(settings)  # a bad policy file fails here, naming the field
    chosen = notifier if notifier is not None else make_notifier(settings, limits=escalation.policy.send_limits)
    if notifier is None and settings.notifier != "console":
        # A real provider's rates (policy `rate_limit.provider`): paced by the outbox, most urgent first.
        chosen = RateLimitedNotifier(chosen, escalation.policy.send_limits)
    dispatcher = Dispatcher(sessions=sessions, notifier=chosen, interval_s=settings.dispatch_interval_s)
    scheduler = EscalationScheduler(
        sessions=sessions, config=escalation, interval_s=settings.dispatch_interval_s, on_notifications=dispatcher.wake
    )
    ack_publisher = _ack_publisher(settings, sessions)
    wakeups.install(
        sessions,
        {
            wakeups.DISPATCH: dispatcher.wake,
            wakeups.ESCALATION: scheduler.wake,
            wakeups.ACKS: ack_publisher.wake if ack_publisher is not None else _ack_not_published,
        },
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Blocking database and thread work stays off the event loop.
        await run_in_threadpool(create_schema, engine)
        dispatcher.start()
        scheduler.start()
        if ack_publisher is not None:
            ack_publisher.start()
        _LOGGER.info("server up on %s with notifier %s", engine.url.render_as_string(), chosen.name)
        try:
            yield
        finally:
            if ack_publisher is not None:
                await run_in_threadpool(ack_publisher.stop)
            await run_in_threadpool(scheduler.stop)
            await run_in_threadpool(dispatcher.stop)
            engine.dispose()

    app = FastAPI(title="HomeSafe server", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.notifier = chosen
    app.state.dispatcher = dispatcher
    app.state.escalation = escalation
    app.state.scheduler = scheduler
    app.state.ack_publisher = ack_publisher
    app.include_router(api_router)
    # Outside /api: what Twilio calls back, and the one-time ack links people open from an SMS.
    app.include_router(webhooks.router)
    app.include_router(acklinks.router)
    mount_dashboard(app)  # `/` and `/dashboard/`: the operators' web page
    return app


def _ack_publisher(settings: ServerSettings, sessions: sessionmaker[Session]) -> AckPublisher | None:
    if settings.mqtt_url is None:
        return None
    return AckPublisher(
        sessions=sessions, broker=BrokerSettings.from_url(settings.mqtt_url), interval_s=settings.dispatch_interval_s
    )


def _ack_not_published() -> None:
    _LOGGER.info("acknowledgement not sent down the home's cmd topic: mqtt_url is unset")
