import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "vitest";
import { planTest } from "../src/index.js";
const dir = join(import.meta.dirname, "fixtures/bad");
it("probe", async () => {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const re = new RegExp(readFileSync(join(dir, f), "utf8").split("\n")[0]!.replace(/^# expect: /, ""));
    try { await planTest(join(dir, f)); out.push(`NOERR ${f}`); } catch (e: any) {
      const msg = e.format?.() ?? String(e);
      out.push(`${re.test(msg) ? "ok  " : "MISS"} ${e.code}/${e.userFacing} ${msg}`);
    }
  }
  console.log(out.join("\n"));
}, 60000);
