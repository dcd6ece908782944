"""Builds one server application: its own engine, session factory, notifier and dispatcher.

Nothing is created at import time, so a test or `homesafe demo` can run several apps, each with its
own settings and database, in one process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from server.api.main import api_router
from server.config import ServerSettings
from server.db.session import create_schema, make_engine, make_sessionmaker
from server.dispatch import Dispatcher
from server.notifiers import Notifier, make_notifier

_LOGGER = logging.getLogger(__name__)


def create_app(settings: ServerSettings, *, notifier: Notifier | None = None) -> FastAPI:
    """The FastAPI app for `settings`; the schema is created and the dispatcher runs during its lifespan.

    Args:
        settings: the server's settings.
        notifier: overrides the one named in `settings.notifier` (e.g. a console outbox on a test stream).
    """
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    chosen = notifier if notifier is not None else make_notifier(settings)
    dispatcher = Dispatcher(sessions=sessions, notifier=chosen, interval_s=settings.dispatch_interval_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Blocking database and thread work stays off the event loop.
        await run_in_threadpool(create_schema, engine)
        dispatcher.start()
        _LOGGER.info("server up on %s with notifier %s", engine.url.render_as_string(), chosen.name)
        try:
            yield
        finally:
            await run_in_threadpool(dispatcher.stop)
            engine.dispose()

    app = FastAPI(title="HomeSafe server", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.notifier = chosen
    app.state.dispatcher = dispatcher
    app.include_router(api_router)
    return app
