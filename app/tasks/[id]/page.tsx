import { TaskDetailPage } from "@/components/tasks/TaskDetailPage";

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <TaskDetailPage id={decodeURIComponent(id)} />;
}
