import { WorkerDetailPage } from "@/components/workers/WorkerDetailPage";

export default async function Page({ params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return <WorkerDetailPage name={decodeURIComponent(name)} />;
}
