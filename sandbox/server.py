"""Serving the sandbox over real HTTP from inside this process (the demo seeding uses it)."""

import threading
from contextlib import contextmanager

from django.core.servers.basehttp import (
    ThreadedWSGIServer,
    WSGIRequestHandler,
    get_internal_wsgi_application,
)
from django.test import override_settings

BASE_URLS = (
    ("THIRTYFIVEUP_BASE_URL", "35up/v1"),
    ("SENDCLOUD_BASE_URL", "sendcloud/api/v3"),
    ("SHIPUP_BASE_URL", "shipup"),
    ("REEVOO_BASE_URL", "reevoo/v4"),
)


def sandbox_only(application):
    """This project's WSGI application, answering only under /sandbox/."""

    def serve(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/sandbox/"):
            return application(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Only /sandbox/ is served here.\n"]

    return serve


class SandboxRequestHandler(WSGIRequestHandler):
    # Django's server writes an answer's headers and body separately; with Nagle's algorithm
    # on, the body then waits for the client's delayed ACK (about 40 ms per request here).
    disable_nagle_algorithm = True


class QuietRequestHandler(SandboxRequestHandler):
    def log_message(self, format, *args):
        pass


def serve(host, port, application, *, on_bind):
    """Serve `application` until interrupted, calling `on_bind(port)` once listening."""
    server = ThreadedWSGIServer((host, port), SandboxRequestHandler, allow_reuse_address=True)
    server.set_app(application)
    on_bind(server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@contextmanager
def sandbox_in_thread():
    """Serve the sandbox on a free local port and point the four providers at it meanwhile."""
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietRequestHandler, allow_reuse_address=True)
    server.set_app(sandbox_only(get_internal_wsgi_application()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{server.server_address[1]}/sandbox"
    try:
        with override_settings(**{name: f"{root}/{path}" for name, path in BASE_URLS}):
            yield root
    finally:
        server.shutdown()
        server.server_close()
