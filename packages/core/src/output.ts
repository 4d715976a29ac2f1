import { StringDecoder } from "node:string_decoder";

/** Bytes of a command's output kept from its start, and from its end, when it prints more than both. */
export const OUTPUT_HEAD_BYTES = 64 * 1024;
export const OUTPUT_TAIL_BYTES = 64 * 1024;

/**
 * A command's output with bounded memory: the first OUTPUT_HEAD_BYTES and the last OUTPUT_TAIL_BYTES
 * are kept, everything between is counted and dropped. `text()` marks the cut with
 * `[output cut: N bytes omitted]`.
 */
export class BoundedOutput {
  readonly #headMax: number;
  readonly #tailMax: number;
  readonly #head: Buffer[] = [];
  #headLen = 0;
  #tail: Buffer[] = [];
  #tailLen = 0;
  #total = 0;

  constructor(headMax = OUTPUT_HEAD_BYTES, tailMax = OUTPUT_TAIL_BYTES) {
    this.#headMax = headMax;
    this.#tailMax = tailMax;
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    if (this.#headLen < this.#headMax) {
      const take = Math.min(chunk.length, this.#headMax - this.#headLen);
      this.#head.push(Buffer.from(chunk.subarray(0, take)));
      this.#headLen += take;
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return;
    }
    if (chunk.length >= this.#tailMax) {
      this.#tail = [Buffer.from(chunk.subarray(chunk.length - this.#tailMax))];
      this.#tailLen = this.#tailMax;
      return;
    }
    this.#tail.push(Buffer.from(chunk));
    this.#tailLen += chunk.length;
    while (this.#tailLen > this.#tailMax) {
      const first = this.#tail[0]!;
      const excess = this.#tailLen - this.#tailMax;
      if (first.length <= excess) {
        this.#tail.shift();
        this.#tailLen -= first.length;
      } else {
        this.#tail[0] = first.subarray(excess);
        this.#tailLen -= excess;
      }
    }
  }

  /** Bytes seen in all. */
  get total(): number {
    return this.#total;
  }

  /** Bytes dropped between the head and the tail. */
  get omitted(): number {
    return this.#total - this.#headLen - this.#tailLen;
  }

  text(): string {
    const omitted = this.omitted;
    if (omitted === 0) return Buffer.concat([...this.#head, ...this.#tail]).toString("utf8");
    return `${Buffer.concat(this.#head).toString("utf8")}\n[output cut: ${omitted} bytes omitted]\n${Buffer.concat(this.#tail).toString("utf8")}`;
  }
}

/**
 * Tests a pattern against a stream as it arrives, in blocks of whole lines (a line longer than
 * OUTPUT_TAIL_BYTES is tested in pieces), so a match anywhere in output too long to keep is still
 * seen. A match spanning two blocks is found only inside the kept head and tail.
 */
export class StreamMatcher {
  readonly #test: (text: string) => boolean;
  readonly #decoder = new StringDecoder("utf8");
  #partial = "";
  #matched = false;

  constructor(test: (text: string) => boolean) {
    this.#test = test;
  }

  push(chunk: Buffer | string): void {
    if (this.#matched) return;
    const text = this.#partial + (typeof chunk === "string" ? chunk : this.#decoder.write(chunk));
    const nl = text.lastIndexOf("\n");
    if (nl < 0 && text.length < OUTPUT_TAIL_BYTES) {
      this.#partial = text;
      return;
    }
    const block = nl < 0 ? text : text.slice(0, nl);
    this.#partial = nl < 0 ? "" : text.slice(nl + 1);
    if (this.#test(block)) this.#matched = true;
  }

  /** True when the pattern matched in the stream so far or in `kept` (the output as reported). */
  matched(kept: string): boolean {
    if (!this.#matched && this.#partial && this.#test(this.#partial)) this.#matched = true;
    return this.#matched || this.#test(kept);
  }
}
