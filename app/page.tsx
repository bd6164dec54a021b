import { DashboardPage } from "@/components/dashboard/DashboardPage";

export default function Page() {
  return <DashboardPage />;
}
