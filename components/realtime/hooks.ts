"use client";

/**
 * What components use: declare a subscription, read parts of the store, tick the clock.
 */
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { ClientSubscription } from "@/lib/protocol/api";
import { serverClock } from "./clock";
import { useRealtimeHandle } from "./RealtimeProvider";
import { connectionStatus, type ConnectionStatus, type RealtimeState, type ServerConfig, type ViewData } from "./store";
import { subscriptionKey } from "./subscription";
import { subscribeTick } from "./ticker";

let nextId = 1;

/**
 * Declare what this component shows; the provider merges it with the others on the page. Pass
 * a new object freely: only a change in content re-sends the subscription.
 */
export function useSubscription(sub: ClientSubscription): void {
  const h = useRealtimeHandle();
  const idRef = useRef(0);
  if (idRef.current === 0) idRef.current = nextId++;
  const key = subscriptionKey(sub);
  const latest = useRef(sub);
  latest.current = sub;
  useEffect(() => h.register(idRef.current, latest.current), [h, key]);
}

/** Read a slice of the store. The selector must return something stable between updates. */
export function useRealtime<T>(selector: (s: RealtimeState) => T): T {
  const { store } = useRealtimeHandle();
  return useSyncExternalStore(
    store.subscribe,
    () => selector(store.getSnapshot()),
    () => selector(SERVER_STATE),
  );
}

const SERVER_STATE: RealtimeState = {
  data: {},
  config: null,
  socketConnected: false,
  everConnected: false,
  seq: null,
  lastUpdateAt: null,
  awaitingSnapshot: false,
  subscribeError: null,
};

export function useView<K extends keyof ViewData>(key: K): ViewData[K] {
  return useRealtime((s) => s.data[key]);
}

export function useConfig(): ServerConfig | null {
  return useRealtime((s) => s.config);
}

export function useConnection(): ConnectionStatus {
  return useRealtime(connectionStatus);
}

/** True while there is nothing newer than what is on screen (disconnected). */
export function useIsStale(): boolean {
  return useRealtime((s) => !s.socketConnected && s.everConnected);
}

/** Local time, re-rendering every `intervalMs` (default: 1000). */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => subscribeTick(intervalMs, setNow), [intervalMs]);
  return now;
}

/** Server time in unix seconds, corrected for clock skew, re-rendering every `intervalMs`. */
export function useServerNowSec(intervalMs = 1000): number {
  const now = useNow(intervalMs);
  return (now + serverClock.offsetMs) / 1000;
}
