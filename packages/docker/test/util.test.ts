import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { KEEP_ALIVE, demux, labelsFor } from "../src/index.js";
import { firstLine, isGone } from "../src/util.js";

function frame(stream: number, text: string): Buffer {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

describe("demux", () => {
  it("joins multiplexed stdout and stderr frames in order", () => {
    expect(demux(Buffer.concat([frame(1, "out\n"), frame(2, "err\n"), frame(1, "more")]))).toBe("out\nerr\nmore");
  });
  it("passes a TTY (unframed) log through", () => {
    expect(demux(Buffer.from("plain text\n"))).toBe("plain text\n");
    expect(demux(Buffer.alloc(0))).toBe("");
  });
});

describe("labelsFor", () => {
  it("labels a service of a run with the owning process", () => {
    expect(labelsFor("r1", "web")).toEqual({
      "clnrm.managed": "true",
      "clnrm.run": "r1",
      "clnrm.service": "web",
      "clnrm.pid": String(process.pid),
      "clnrm.host": hostname(),
    });
    expect(labelsFor("r1")).not.toHaveProperty("clnrm.service");
  });
});

describe("errors", () => {
  it("recognises gone resources and trims dockerode messages", () => {
    expect(isGone({ statusCode: 404 })).toBe(true);
    expect(isGone({ statusCode: 409 })).toBe(true);
    expect(isGone({ statusCode: 500 })).toBe(false);
    expect(isGone(null)).toBe(false);
    expect(firstLine(new Error("(HTTP code 404) no such container - No such container: abc\nmore"))).toBe("No such container: abc");
  });
  it("keeps containers alive with a shell loop that exits on TERM", () => {
    expect(KEEP_ALIVE.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(KEEP_ALIVE[2]).toContain("trap 'exit 0' TERM");
  });
});
