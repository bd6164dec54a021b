import type { Metadata } from "next";
import { BrokerPage } from "@/components/broker/BrokerPage";

export const metadata: Metadata = { title: "Broker" };

export default function Page() {
  return <BrokerPage />;
}
