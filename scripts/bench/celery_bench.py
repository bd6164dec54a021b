"""Celery side of `npm run bench:engine`: the `bench.noop` task and a sender.

Worker:  BROKER_URL=... python3 -m celery -A celery_bench worker -c 2 -E   (cwd scripts/bench)
Sender:  BROKER_URL=... python3 celery_bench.py send N
The sender prints "start <epoch ms>" just before its first send_task, so interpreter start-up
is not counted, then sends N messages with Celery's own client in a plain loop.
"""
import os
import sys
import time

from celery import Celery

BROKER_URL = os.environ["BROKER_URL"]

app = Celery("celery_bench", broker=BROKER_URL, backend=BROKER_URL)
app.conf.update(
    worker_send_task_events=True,
    task_send_sent_event=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.noop")
def noop():
    return None


def send(n):
    # Warm the producer pool and connection first, as a running app would be.
    conn = app.connection_for_write()
    conn.ensure_connection()
    with app.producer_or_acquire() as producer:
        print("start %d" % int(time.time() * 1000), flush=True)
        for _ in range(n):
            app.send_task("bench.noop", producer=producer)
    print("sent", flush=True)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "send":
    send(int(sys.argv[2]))
