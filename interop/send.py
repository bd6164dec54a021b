"""Python Celery client for interop tests: send_task and print the result as one JSON line.

usage: python3 send.py NAME ARGS_JSON [KWARGS_JSON] [QUEUE] [TIMEOUT]
"""
import json
import sys

from proj import app

name = sys.argv[1]
args = json.loads(sys.argv[2]) if len(sys.argv) > 2 else []
kwargs = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
queue = sys.argv[4] if len(sys.argv) > 4 else "celery"
timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 20
res = app.send_task(name, args=args, kwargs=kwargs, queue=queue)
try:
    value = res.get(timeout=timeout)
    print(json.dumps({"id": res.id, "state": res.state, "result": value}))
except Exception as exc:  # report the failure as data: the test asserts on it
    print(json.dumps({"id": res.id, "state": res.state, "error": repr(exc)}))
