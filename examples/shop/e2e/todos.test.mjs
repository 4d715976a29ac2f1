// The frontend's end-to-end test (what `npm run test:e2e` runs in a real frontend): through the API
// by its name on the run network, never the database directly.
const api = process.env.API_URL;
const list = async () => (await fetch(`${api}/todos`)).json();

const before = await list();
if (before.length !== 2) throw new Error(`expected the 2 todos of the init script, got ${JSON.stringify(before)}`);
const created = await fetch(`${api}/todos`, { method: "POST", body: "review the pull request" });
if (created.status !== 201) throw new Error(`POST /todos answered ${created.status}`);
const after = await list();
console.log(`${after.length} todos: ${after.map((t) => `${t.id}:${t.title}${t.done ? " (done)" : ""}`).join(", ")}`);
