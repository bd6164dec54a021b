import { describe, expect, it } from "vitest";
import { CHORD_TIMEOUT_MS, ShortcutMachine, activeHref, isTypingTarget } from "./shortcuts";

describe("ShortcutMachine", () => {
  it("navigates on g followed by a page letter", () => {
    const m = new ShortcutMachine();
    expect(m.press("g", 0)).toBeNull();
    expect(m.press("t", 100)).toEqual({ type: "go", href: "/tasks" });
    expect(m.press("g", 200)).toBeNull();
    expect(m.press("w", 300)).toEqual({ type: "go", href: "/workers" });
    m.press("g", 400);
    expect(m.press("b", 500)).toEqual({ type: "go", href: "/broker" });
    m.press("g", 600);
    expect(m.press("d", 700)).toEqual({ type: "go", href: "/" });
  });
  it("forgets a lone g after the timeout and ignores unknown chords", () => {
    const m = new ShortcutMachine();
    m.press("g", 0);
    expect(m.press("t", CHORD_TIMEOUT_MS + 1)).toBeNull();
    m.press("g", 5000);
    expect(m.press("x", 5001)).toBeNull();
    // the chord was consumed: a plain t does nothing
    expect(m.press("t", 5002)).toBeNull();
  });
  it("maps / to search and ? to help", () => {
    const m = new ShortcutMachine();
    expect(m.press("/", 0)).toEqual({ type: "search" });
    expect(m.press("?", 0)).toEqual({ type: "help" });
  });
});

describe("helpers", () => {
  it("finds the active section", () => {
    expect(activeHref("/")).toBe("/");
    expect(activeHref("/tasks")).toBe("/tasks");
    expect(activeHref("/tasks/abc")).toBe("/tasks");
    expect(activeHref("/workers/w1@h")).toBe("/workers");
    expect(activeHref("/tasksx")).toBe("/");
  });
  it("recognises text fields only", () => {
    expect(isTypingTarget({ tagName: "INPUT", type: "text" } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: "INPUT", type: "checkbox" } as unknown as EventTarget)).toBe(false);
    expect(isTypingTarget({ tagName: "TEXTAREA" } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: "DIV", isContentEditable: false } as unknown as EventTarget)).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});
