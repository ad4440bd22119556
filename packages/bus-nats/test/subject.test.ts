import { describe, expect, it } from "vitest";
import { encodeName, encodeToken, subjectFor, translatePattern } from "../src/subject.js";

describe("subject encoding", () => {
  it("passes tokens NATS can carry through unchanged", () => {
    for (const token of ["registry", "entry_update", "a-b", "v1:2", "x/y", "foo#bar"]) {
      expect(encodeToken(token)).toBe(token);
    }
  });

  it("escapes tokens NATS cannot carry into one safe token each", () => {
    for (const token of ["", "has space", "*", ">", "foo*", "a>b", "~tilde", "tab\there", "é", "**"]) {
      const encoded = encodeToken(token);
      expect(encoded.startsWith("~")).toBe(true);
      expect(encoded).toMatch(/^~[A-Za-z0-9_-]*$/);
      expect(Buffer.from(encoded.slice(1), "base64url").toString("utf8")).toBe(token);
    }
  });

  it("keeps segment boundaries, so one bus segment is always one subject token", () => {
    expect(encodeName("a..b")).toBe("a.~.b");
    expect(encodeName("a.")).toBe("a.~");
    expect(encodeName("my system.*")).toBe(`${encodeToken("my system")}.${encodeToken("*")}`);
    expect(subjectFor("tb", "registry", "entry.update")).toBe("tb.registry.entry.update");
  });

  it("never maps two different names to the same subject tokens", () => {
    const names = ["a", "~YQ", "a.b", "a b", "a..b", "a.", ".a", "*", "~Kg", "**"];
    const encoded = new Set(names.map(encodeName));
    expect(encoded.size).toBe(names.length);
  });
});

describe("pattern translation to NATS subjects", () => {
  it("maps literals and `*` token for token, exactly", () => {
    expect(translatePattern("registry.*", "tb")).toEqual({ subjects: ["tb.registry.*"], exact: true });
    expect(translatePattern("a.*.c")).toEqual({ subjects: ["a.*.c"], exact: true });
  });

  it("maps a trailing `**` to the base subject plus `base.>`, exactly", () => {
    expect(translatePattern("registry.**", "tb")).toEqual({
      subjects: ["tb.registry", "tb.registry.>"],
      exact: true,
    });
    expect(translatePattern("a.**.**")).toEqual({ subjects: ["a", "a.>"], exact: true });
    expect(translatePattern("**")).toEqual({ subjects: [">"], exact: true });
    expect(translatePattern("**", "tb")).toEqual({ subjects: ["tb", "tb.>"], exact: true });
  });

  it("widens a middle `**` to `>` and an alternation to `*`, which needs the local filter", () => {
    expect(translatePattern("a.**.b")).toEqual({ subjects: ["a.>"], exact: false });
    expect(translatePattern("**.state.*")).toEqual({ subjects: [">"], exact: false });
    expect(translatePattern("(a|b).(b|y).c")).toEqual({ subjects: ["*.*.c"], exact: false });
  });

  it("encodes literal pattern segments the way event names are encoded", () => {
    expect(translatePattern("foo*.x")).toEqual({ subjects: [`${encodeToken("foo*")}.x`], exact: true });
  });

  it("translates the empty pattern (which matches nothing) to no subscription", () => {
    expect(translatePattern("")).toEqual({ subjects: [], exact: true });
  });

  it("rejects a malformed pattern with INVALID_PATTERN", () => {
    expect(() => translatePattern("a.(b")).toThrow(expect.objectContaining({ code: "INVALID_PATTERN" }));
  });
});
