/** The canonical source repository of clnrm. Links printed by clnrm (errors, `clnrm init`) start here. */
export const REPOSITORY_URL = "https://github.com/clnrm/clnrm-ts";

/**
 * The absolute URL of a page of clnrm's documentation (`docs/<page>.md` on the default branch), so a
 * link works from an installed package: `docsUrl("configuration")`, `docsUrl("api.md#vitest")`.
 */
export function docsUrl(page: string): string {
  const [name = "", anchor] = page.split("#", 2);
  const file = name.endsWith(".md") ? name : `${name}.md`;
  return `${REPOSITORY_URL}/blob/main/docs/${file}${anchor ? `#${anchor}` : ""}`;
}
