import Link from "next/link";

export default function NotFound() {
  return (
    <div className="mx-auto mt-16 max-w-md text-center">
      <h1 className="text-[17px] font-semibold">Page not found</h1>
      <p className="mt-2 text-muted">
        Nothing lives at this address. Try the{" "}
        <Link href="/" className="text-accent-fg hover:underline">
          dashboard
        </Link>{" "}
        or the{" "}
        <Link href="/tasks" className="text-accent-fg hover:underline">
          task list
        </Link>
        .
      </p>
    </div>
  );
}
