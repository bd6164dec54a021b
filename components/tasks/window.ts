/**
 * Server-side paging for the virtualised task table: the table asks only for the rows around
 * the viewport, in blocks so that scrolling a few pixels does not re-subscribe.
 */
import type { TaskPage } from "@/lib/protocol/api";

/** Row height in px; fixed so the virtualiser never measures (default: 32). */
export const ROW_H = 32;
/**
 * Window edges snap to multiples of this many rows (default: 25). Every row in the window is
 * live on the socket, so it is kept near what is on screen: at 10k events/s the top of the list
 * is all new rows each tick, and their bytes are the socket's budget (≤ 200 KB/s).
 */
export const BLOCK = 25;
/** Largest window asked for; the server caps pages at 500 (default: 400). */
export const MAX_WINDOW = 400;

export interface Window {
  offset: number;
  limit: number;
}

/** Window covering rendered rows `start..end`: a block above, and up to the next block edge below. */
export function pageWindow(start: number, end: number): Window {
  const offset = Math.max(0, Math.floor(Math.max(0, start) / BLOCK) * BLOCK - BLOCK);
  const stop = (Math.floor(Math.max(start, end) / BLOCK) + 1) * BLOCK;
  return { offset, limit: Math.min(MAX_WINDOW, Math.max(BLOCK, stop - offset)) };
}

/** The row at absolute index `i`, if the current page holds it. */
export function rowAt(page: TaskPage | undefined, i: number): TaskPage["rows"][number] | undefined {
  if (!page) return undefined;
  const j = i - page.offset;
  return j >= 0 && j < page.rows.length ? page.rows[j] : undefined;
}

/**
 * How far the anchor row (the top visible one) moved in the new page, in rows; null when the
 * page no longer holds it. Positive = rows were inserted above it.
 */
export function anchorShift(anchor: { id: string; index: number } | null, page: TaskPage): number | null {
  if (!anchor) return null;
  const rows = page.rows;
  for (let j = 0; j < rows.length; j++) {
    if (rows[j]?.uuid === anchor.id) return page.offset + j - anchor.index;
  }
  return null;
}
