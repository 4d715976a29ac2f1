import type { RunningContainer } from "@clnrm/plugin-api";

/** The last `lines` lines of a container's log, joined on one line: `a | b | c` ("" if none). */
export async function logTail(container: RunningContainer, lines = 10): Promise<string> {
  const text = await container.logs({ tail: lines }).catch(() => "");
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .slice(-lines)
    .map((l) => (l.length > 200 ? `${l.slice(0, 197)}...` : l))
    .join(" | ");
}

/** `; last log lines: a | b` or "": append it to an error message. */
export async function withTail(container: RunningContainer): Promise<string> {
  const tail = await logTail(container);
  return tail ? `; last log lines: ${tail}` : "";
}
