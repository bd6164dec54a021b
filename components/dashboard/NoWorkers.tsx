import { Cmd, Empty } from "../ui/Empty";

/** First run: nothing to monitor yet, so say exactly how to get something. */
export function NoWorkers() {
  return (
    <Empty title="No workers yet">
      <div className="flex flex-col gap-3 text-left">
        <p>
          Petal shows a worker as soon as it sends its first event. Start the embedded demo (memory broker, two workers and a
          steady workload):
        </p>
        <Cmd>npm start</Cmd>
        <p>Or watch a Redis broker and start Celery workers with events enabled:</p>
        <Cmd>npm start -- --broker redis://127.0.0.1:6379/0</Cmd>
        <Cmd>celery -A proj worker -E</Cmd>
        <p className="text-faint">
          Workers already running without <code className="font-mono">-E</code>? Enable events with{" "}
          <code className="font-mono">celery -A proj control enable_events</code>.
        </p>
      </div>
    </Empty>
  );
}
