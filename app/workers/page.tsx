import type { Metadata } from "next";
import { WorkersPage } from "@/components/workers/WorkersPage";

export const metadata: Metadata = { title: "Workers" };

export default function Page() {
  return <WorkersPage />;
}
