"""Queue metrics: samples from RabbitMQ, Prometheus scrapes and the API; latest and history.

Entry points: router (POST /api/v1/queues/samples, GET /api/v1/queues) and jobs.run_once (the
poller `tower serve` schedules when brokers are configured).
"""

from queues.api import router
from queues.jobs import run_once

__all__ = ["router", "run_once"]
