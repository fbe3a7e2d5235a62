// Fails when ARCHITECTURE.md's folder table and layers.json (what dependency-cruiser enforces)
// disagree, so the page cannot drift from the rules.
import { readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const { modules } = JSON.parse(readFileSync(new URL('layers.json', root), 'utf8'));
const page = readFileSync(new URL('ARCHITECTURE.md', root), 'utf8');
const table = page.match(/<!-- layers:begin -->([\s\S]*?)<!-- layers:end -->/);
if (!table) {
  console.error('ARCHITECTURE.md: the folder table (between <!-- layers:begin/end -->) is missing');
  process.exit(1);
}

const documented = new Map();
for (const line of table[1].split('\n')) {
  const cells = line.match(/^\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|$/);
  if (!cells) continue;
  const [, name, deps] = cells;
  // `every module above`: the rows before this one.
  const above = [...documented.keys()];
  documented.set(name, deps === '—' ? [] : deps === 'every module above' ? above : deps.split(/,\s*/));
}

const problems = [];
for (const [name, deps] of Object.entries(modules)) {
  const shown = documented.get(name);
  if (!shown) problems.push(`${name}: in layers.json, missing from ARCHITECTURE.md`);
  else if ([...shown].sort().join() !== [...deps].sort().join())
    problems.push(`${name}: ARCHITECTURE.md says [${shown.join(', ')}], layers.json says [${deps.join(', ')}]`);
}
for (const name of documented.keys())
  if (!(name in modules)) problems.push(`${name}: in ARCHITECTURE.md, not in layers.json`);
if (problems.length) {
  console.error(`ARCHITECTURE.md and layers.json disagree:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
