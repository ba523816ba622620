from __future__ import annotations

# the dashboards' headless Chromium (installed when missing), for the Exceptions page;
# RabbitMQ comes from tests/conftest.py
from tests.dashboards.conftest import browser, browser_context, page  # noqa: F401
