import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// Every link in docs/ and the READMEs resolves: a relative link names a file of the repository (and
// a heading of it, when it has an anchor), and an absolute https://github.com/clnrm/clnrm-ts link
// names a path that exists on main. The same for the docs links the code prints (docsUrl) and the
// packages' homepages: those are what a user who installed from a registry follows.
const root = resolve(import.meta.dirname, "../../..");
const REPO = /^https:\/\/github\.com\/clnrm\/clnrm-ts\/(?:blob|tree)\/main\/([^#?]*)(?:#(.*))?$/;

const markdown = [
  join(root, "README.md"),
  ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(root, "docs", f)),
  ...readdirSync(join(root, "packages"))
    .map((p) => join(root, "packages", p, "README.md"))
    .filter((f) => existsSync(f)),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of stripFences(readFileSync(file, "utf8")).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const s = slug(m[1]!);
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    out.add(n === 0 ? s : `${s}-${n}`);
  }
  return out;
}

const stripFences = (text: string) => text.replace(/^(```|~~~)[\s\S]*?^\1/gm, "");
/** The text without fenced code blocks and inline code (a link there is an example, not a link). */
const stripCode = (text: string) => stripFences(text).replace(/`[^`\n]*`/g, "");

interface Link {
  from: string;
  target: string;
}

function links(file: string): Link[] {
  const text = stripCode(readFileSync(file, "utf8"));
  const found = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  // Bare URLs of the repository, outside link syntax.
  found.push(...[...text.matchAll(/(?<!\()https:\/\/github\.com\/clnrm\/clnrm-ts\/[^\s)>\]`"']+/g)].map((m) => m[0].replace(/[.,;:]$/, "")));
  return found.map((target) => ({ from: relative(root, file), target }));
}

/** Why a link does not resolve, or undefined. */
function problem(fromFile: string, target: string): string | undefined {
  let path: string;
  let anchor: string | undefined;
  const repo = REPO.exec(target);
  if (repo) {
    path = join(root, decodeURIComponent(repo[1]!));
    anchor = repo[2];
  } else if (/^[a-z]+:/i.test(target)) {
    return undefined; // another site: not checked offline
  } else {
    const [p = "", a] = target.split("#", 2);
    path = p === "" ? fromFile : resolve(dirname(fromFile), decodeURIComponent(p));
    anchor = a;
  }
  if (!existsSync(path)) return `${relative(root, path)} does not exist`;
  if (anchor && anchor !== "readme" && statSync(path).isFile() && path.endsWith(".md") && !anchors(path).has(anchor)) {
    return `${relative(root, path)} has no heading #${anchor}`;
  }
  return undefined;
}

describe("documentation links", () => {
  it("finds the files", () => {
    expect(markdown.length).toBeGreaterThan(15);
    // The extractor sees links, relative and absolute, and a broken one is reported.
    const all = markdown.flatMap(links);
    expect(all.length).toBeGreaterThan(40);
    expect(all.some((l) => REPO.test(l.target))).toBe(true);
    expect(problem(join(root, "README.md"), "docs/no-such-page.md")).toBe("docs/no-such-page.md does not exist");
    expect(problem(join(root, "README.md"), "docs/configuration.md#no-such-heading")).toBe("docs/configuration.md has no heading #no-such-heading");
    expect(problem(join(root, "README.md"), "https://github.com/clnrm/clnrm-ts/blob/main/docs/nope.md")).toBe("docs/nope.md does not exist");
    expect(problem(join(root, "README.md"), "docs/configuration.md#how-output-is-matched")).toBeUndefined();
  });

  it.each(markdown.map((f) => [relative(root, f), f]))("%s: every link resolves", (_name, file) => {
    const bad = links(file)
      .map((l) => ({ ...l, why: problem(file, l.target) }))
      .filter((l) => l.why)
      .map((l) => `${l.from}: ${l.target}: ${l.why}`);
    expect(bad).toEqual([]);
  });

  it("package READMEs link absolutely (their npm page has no repository beside it)", () => {
    const relativeLinks = markdown
      .filter((f) => relative(root, f).startsWith("packages/"))
      .flatMap(links)
      .filter((l) => !/^[a-z]+:/i.test(l.target) && !l.target.startsWith("#"))
      .map((l) => `${l.from}: ${l.target}`);
    expect(relativeLinks).toEqual([]);
  });

  it("docsUrl pages the code prints, and every package's homepage, exist", () => {
    const bad: string[] = [];
    for (const pkg of readdirSync(join(root, "packages"))) {
      const dir = join(root, "packages", pkg);
      const manifest = join(dir, "package.json");
      if (!existsSync(manifest)) continue;
      const homepage = (JSON.parse(readFileSync(manifest, "utf8")) as { homepage?: string }).homepage;
      if (!homepage || !REPO.test(homepage)) bad.push(`${pkg}: homepage ${homepage} is not a page of the repository`);
      else if (problem(manifest, homepage)) bad.push(`${pkg}: homepage ${homepage}: ${problem(manifest, homepage)}`);
      for (const file of walk(join(dir, "src"))) {
        // Code only: a doc comment's example is not a link the code prints.
        const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
        for (const m of code.matchAll(/docsUrl\("([^"]+)"\)/g)) {
          const [page = "", anchor] = m[1]!.split("#", 2);
          const url = `https://github.com/clnrm/clnrm-ts/blob/main/docs/${page.endsWith(".md") ? page : `${page}.md`}${anchor ? `#${anchor}` : ""}`;
          const why = problem(file, url);
          if (why) bad.push(`${relative(root, file)}: docsUrl("${m[1]}"): ${why}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});

function* walk(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (/\.[cm]?[jt]s$/.test(e.name)) yield p;
  }
}
