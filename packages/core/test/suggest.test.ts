import { describe, expect, it } from "vitest";
import { didYouMean, didYouMeanHint } from "../src/suggest.js";

const TYPES = ["generic_container", "ollama", "postgres", "redis"];

describe("didYouMean", () => {
  it("suggests the closest candidate for a likely typo", () => {
    expect(didYouMean("olama", TYPES)).toBe("ollama");
    expect(didYouMean("generic_containr", TYPES)).toBe("generic_container");
    expect(didYouMean("postgress", TYPES)).toBe("postgres");
    expect(didYouMean("imgae", ["image", "ports", "env"])).toBe("image");
  });

  it("ignores case but returns the candidate as spelled", () => {
    expect(didYouMean("OLLAMA", TYPES)).toBe("ollama");
    expect(didYouMean("olama", ["Ollama"])).toBe("Ollama");
  });

  it("returns undefined for unrelated input or no candidates", () => {
    expect(didYouMean("kubernetes", TYPES)).toBeUndefined();
    expect(didYouMean("xyz", TYPES)).toBeUndefined();
    expect(didYouMean("ollama", [])).toBeUndefined();
  });

  it("counts a swap of two adjacent letters as one typo", () => {
    expect(didYouMean("imgae", ["image"])).toBe("image");
    expect(didYouMean("rdeis", ["redis"])).toBe("redis");
    expect(didYouMean("ab", ["ba"])).toBe("ba");
    // Two swaps in a short word are too far.
    expect(didYouMean("rdesi", ["redis"])).toBeUndefined();
  });

  it("prefers the closest of several candidates", () => {
    expect(didYouMean("postgre", ["postgres", "post"])).toBe("postgres");
    expect(didYouMean("ports", ["port", "ports"])).toBe("ports");
  });

  it("accepts any iterable", () => {
    expect(didYouMean("redsi", new Set(TYPES))).toBe("redis");
  });

  it("didYouMeanHint renders the suggestion or nothing", () => {
    expect(didYouMeanHint("olama", TYPES)).toBe("did you mean 'ollama'?");
    expect(didYouMeanHint("kubernetes", TYPES)).toBe("");
  });
});

