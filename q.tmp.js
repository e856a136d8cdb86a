const { Client } = require('pg');
(async () => {
  const c = new Client({ connectionString: process.env.U });
  await c.connect();
  for (const q of process.argv.slice(2)) { const r = await c.query(q); console.table(r.rows); }
  await c.end();
})();
