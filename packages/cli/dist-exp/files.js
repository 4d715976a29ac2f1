import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ValidationError } from "@clnrm/core";
export const TEST_FILE_SUFFIX = ".clnrm.toml";
const SKIP_DIRS = new Set(["node_modules", ".git", "dist"]);
/** Expands files and directories into a sorted list of test files. A path that doesn't exist is an error. */
export async function collectTestFiles(paths) {
    const out = new Set();
    for (const p of paths) {
        const abs = resolve(p);
        const st = await stat(abs).catch(() => undefined);
        if (!st)
            throw new ValidationError(`no such file or directory: ${p}`, { hint: "pass a .clnrm.toml file or a directory of them" });
        if (st.isDirectory()) {
            const found = await walk(abs);
            if (found.length === 0)
                throw new ValidationError(`no *${TEST_FILE_SUFFIX} files under ${p}`, { hint: "create one with a [services.NAME] table and [[steps]]" });
            for (const f of found)
                out.add(f);
        }
        else {
            out.add(abs);
        }
    }
    return [...out].sort();
}
async function walk(dir) {
    const entries = await readdir(dir, { withFileTypes: true });
    const nested = await Promise.all(entries.map(async (e) => {
        const p = join(dir, e.name);
        if (e.isDirectory())
            return SKIP_DIRS.has(e.name) ? [] : walk(p);
        return e.isFile() && e.name.endsWith(TEST_FILE_SUFFIX) ? [p] : [];
    }));
    return nested.flat();
}
//# sourceMappingURL=files.js.map