import type { Metadata } from "next";
import { Suspense } from "react";
import { ChartsPage } from "@/components/charts/ChartsPage";

export const metadata: Metadata = { title: "Charts" };

export default function Page() {
  return (
    <Suspense>
      <ChartsPage />
    </Suspense>
  );
}
