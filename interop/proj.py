"""A small Celery 5 app for interop tests: real Celery workers and clients on the test's Redis.

BROKER_URL is the test's private redis-server (never the shared 6379).
"""
import os
import time

import redis
from celery import Celery
from celery.contrib.abortable import AbortableTask

BROKER_URL = os.environ["BROKER_URL"]

app = Celery("proj", broker=BROKER_URL, backend=BROKER_URL)
app.conf.update(
    worker_send_task_events=True,
    task_send_sent_event=True,
    result_extended=True,
    worker_pool_restarts=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)
if os.environ.get("GLOBAL_KEYPREFIX"):
    # kombu's prefix for every broker key and channel; Celery 5.2's result backend has none.
    app.conf.broker_transport_options = {"global_keyprefix": os.environ["GLOBAL_KEYPREFIX"]}


@app.task(name="proj.add")
def add(x, y):
    return x + y


@app.task(name="proj.fail")
def fail():
    raise ValueError("boom: intentional failure")


@app.task(name="proj.slow")
def slow(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name="proj.flaky")
def flaky(key, value=None):
    # Fails the first time a key is seen, succeeds after: what a retry from Petal must fix.
    r = redis.Redis.from_url(BROKER_URL)
    if r.set("interop-flaky:" + key, 1, nx=True):
        raise ConnectionError("upstream unavailable for " + key)
    return {"key": key, "value": value}


@app.task(bind=True, base=AbortableTask, name="proj.abortable")
def abortable(self, seconds):
    # Stops cleanly once Petal's (or Flower's) abort stored ABORTED in the result backend.
    for i in range(int(seconds * 10)):
        if self.is_aborted():
            return "aborted after %d checks" % i
        time.sleep(0.1)
    return "never aborted"
