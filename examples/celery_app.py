"""A Python Celery app on the same Redis as the Petal workers, for `celery -A celery_app worker -E`.

Petal shows its workers and tasks next to the TypeScript ones; either side can send tasks the
other runs (Celery protocol v2, JSON).

    BROKER_URL=redis://127.0.0.1:6379/0 celery -A celery_app worker -E -Q reports -n py1@%h
"""
import os
import time

from celery import Celery

BROKER_URL = os.environ.get("BROKER_URL", "redis://127.0.0.1:6379/0")

app = Celery("celery_app", broker=BROKER_URL, backend=BROKER_URL)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    worker_send_task_events=True,  # same as -E: Petal needs task events
    task_send_sent_event=True,  # task-sent events, so Petal sees PENDING tasks too
    result_extended=True,  # name/args/worker in stored results
    task_routes={"reports.*": {"queue": "reports"}},
    broker_connection_retry_on_startup=True,
)


@app.task(name="reports.generate", bind=True, max_retries=3)
def generate(self, month, fmt="pdf"):
    """A slow report; fails on a bad month so the dashboard shows a Python traceback."""
    if not 1 <= int(month) <= 12:
        raise ValueError(f"no such month: {month}")
    time.sleep(2)
    return {"month": int(month), "format": fmt, "pages": 12}


if __name__ == "__main__":
    # python3 celery_app.py: send a few tasks, including one to the TypeScript worker.
    generate.delay(5)
    generate.delay(13)
    app.send_task("images.resize", kwargs={"path": "/data/cat.png", "width": 320}, queue="images")
    print("sent reports.generate ×2 and images.resize")
