"use client";

/**
 * One socket.io connection per tab. Components declare what they show with useSubscription();
 * the provider merges those into the one ClientSubscription the server understands, sends it on
 * (re)connect and whenever it changes, and merges RealtimeUpdates into the store.
 */
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { io, type Socket } from "socket.io-client";
import { SOCKET_EVENTS, type ClientSubscription } from "@/lib/protocol/api";
import { serverClock } from "./clock";
import { PETAL_PREFIX } from "./prefix";
import { RealtimeStore } from "./store";
import type { WireUpdate } from "@/lib/protocol/wire";
import { BASE_SUBSCRIPTION, invalidatedViews, mergeSubscriptions, subscriptionKey } from "./subscription";

export interface RealtimeHandle {
  store: RealtimeStore;
  /** register one component's needs; returns the release function */
  register(id: number, sub: ClientSubscription): () => void;
  /** ask the server for a fresh snapshot (at most one outstanding) */
  resync(): void;
}

const RealtimeContext = createContext<RealtimeHandle | null>(null);

export function useRealtimeHandle(): RealtimeHandle {
  const h = useContext(RealtimeContext);
  if (!h) throw new Error("useRealtimeHandle outside <RealtimeProvider>");
  return h;
}

function isUpdate(v: unknown): v is WireUpdate {
  if (typeof v !== "object" || v === null) return false;
  const u = v as Record<string, unknown>;
  return typeof u.seq === "number" && typeof u.full === "boolean" && typeof u.now === "number";
}

/** Server event for a refused subscription (server/realtime); the body is an ApiError. */
const SUBSCRIBE_ERROR_EVENT = "subscribe_error";

function isRefusal(v: unknown): v is { error: { message: string } } {
  if (typeof v !== "object" || v === null) return false;
  const e = (v as { error?: unknown }).error;
  return typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string";
}

/** The socket side of the handle: owns the registered parts and what was last sent. */
class Connection implements RealtimeHandle {
  readonly store = new RealtimeStore();
  private socket: Socket | null = null;
  private parts = new Map<number, ClientSubscription>();
  private sent: { key: string; sub: ClientSubscription } | null = null;
  private flushQueued = false;
  private handshakeKey = "";
  private resyncPending = false;

  register(id: number, sub: ClientSubscription): () => void {
    this.parts.set(id, sub);
    this.scheduleFlush();
    return () => {
      this.parts.delete(id);
      this.scheduleFlush();
    };
  }

  resync(): void {
    if (this.resyncPending || !this.socket?.connected) return;
    this.resyncPending = true;
    this.socket.emit(SOCKET_EVENTS.resync);
  }

  open(): () => void {
    const socket = io({
      path: `${PETAL_PREFIX}/socket.io`,
      // The handshake carries the subscription, so the first snapshot already holds this page.
      auth: (cb) => {
        const sub = this.current();
        this.handshakeKey = subscriptionKey(sub);
        cb({ subscription: sub });
      },
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    this.socket = socket;
    socket.on("connect", () => {
      this.store.setConnected(true);
      this.resyncPending = false;
      const sub = this.current();
      const key = subscriptionKey(sub);
      if (key === this.handshakeKey) {
        this.sent = { key, sub };
        this.store.resubscribed([]);
      } else {
        this.send(true);
      }
    });
    socket.on(SUBSCRIBE_ERROR_EVENT, (body: unknown) => this.refused(body));
    socket.on("disconnect", () => this.store.setConnected(false));
    socket.on(SOCKET_EVENTS.update, (msg: unknown) => {
      if (!isUpdate(msg)) return;
      const local = Date.now();
      serverClock.add(msg.now, local);
      if (msg.full) this.resyncPending = false;
      if (this.store.apply(msg, local) === "gap") this.resync();
    });
    return () => {
      socket.removeAllListeners();
      socket.disconnect();
      this.socket = null;
      this.sent = null;
      this.store.setConnected(false);
    };
  }

  // A page mounts several parts in one commit (and unmounts the last page's): one message.
  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.send(false);
    });
  }

  private current(): ClientSubscription {
    return mergeSubscriptions([BASE_SUBSCRIPTION, ...this.parts.values()]);
  }

  private send(force: boolean): void {
    const sub = this.current();
    const key = subscriptionKey(sub);
    if (!force && this.sent?.key === key) return;
    const prev = this.sent?.sub ?? {};
    this.sent = { key, sub };
    this.store.resubscribed(invalidatedViews(prev, sub));
    const socket = this.socket;
    if (!socket?.connected) return;
    socket.emit(SOCKET_EVENTS.subscribe, sub, (reply: unknown) => {
      if (this.sent?.key !== key) return; // a newer subscription went out meanwhile
      if (isRefusal(reply)) this.refused(reply);
      else this.store.subscribeResult(null);
    });
  }

  /** The server kept the previous subscription: show why, and get its data back in full. */
  private refused(body: unknown): void {
    this.store.subscribeResult(isRefusal(body) ? body.error.message : "The server refused this view.");
    this.resync();
  }
}

export function RealtimeProvider({ children }: { children: ReactNode }) {
  const [conn] = useState(() => new Connection());
  useEffect(() => conn.open(), [conn]);
  return <RealtimeContext.Provider value={conn}>{children}</RealtimeContext.Provider>;
}
