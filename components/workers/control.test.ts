import { describe, expect, it } from "vitest";
import { answerBody, describeReplies } from "./control";

describe("describeReplies", () => {
  it("lists each worker's ok or error reply", () => {
    expect(describeReplies({ "w1@a": { ok: "pool will grow" }, "w2@a": { error: "Autoscale not enabled" } })).toBe(
      "w1@a: pool will grow; w2@a: error: Autoscale not enabled",
    );
    expect(describeReplies({ "w1@a": { ok: { n: 1 } } })).toBe('w1@a: {"n":1}');
    expect(describeReplies(null)).toBe("");
  });

  it("appends the replies to the server's message, or gives the message alone", () => {
    expect(answerBody({ message: "Growing 'w1@a' worker's pool by 1", value: { replies: { "w1@a": { ok: "pool will grow" } } } })).toBe(
      "Growing 'w1@a' worker's pool by 1. Replies: w1@a: pool will grow",
    );
    expect(answerBody({ message: "Shutting down!", value: { replies: {} } })).toBe("Shutting down!");
  });
});
