// Aggregates a V8 .cpuprofile (node --cpu-prof) into self time by function, by file and by package,
// and inclusive time of the functions of this service (dist/ mapped back to src/*.ts:line).
//   node bench/cpuprofile-report.mjs [file.cpuprofile | dir] [--top 25] [--json out.json] [--from µs --to µs --requests N]
// (--from/--to: only samples in that window of the profile's clock, as bench/results.json records it.)
// Without a file: the newest .cpuprofile in bench/out.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

/** The newest .cpuprofile in a folder. */
export function newestProfile(dir) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!files.length) throw new Error(`no .cpuprofile in ${dir}`);
  return files[0];
}

const maps = new Map();
/** dist/x.js:line:col → src/x.ts:line through the compiler's source map (1-based line out). */
function toSource(url, line0, col0) {
  if (!url.includes('/dist/') || !url.endsWith('.js')) return undefined;
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  let map = maps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  if (!map) return undefined;
  const e = map.findEntry(line0, col0);
  if (!e || !e.originalSource) return undefined;
  const src = e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : resolve(dirname(file), e.originalSource);
  return `${relative(root, src)}:${e.originalLine + 1}`;
}

function shortFile(url) {
  if (!url) return '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) return path.slice(nm + '/node_modules/'.length);
  return path.startsWith(root) ? relative(root, path) : path;
}

/** The package a frame belongs to: an npm package, node's own code, this service, or V8 itself. */
function packageOf(url, fn) {
  if (!url) return fn.startsWith('(') ? fn : '(native/V8)';
  if (url.startsWith('node:')) return 'node:internal';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (path.includes('/dist/')) return 'service (dist/)';
  return shortFile(url);
}

/** `window`: only samples taken between fromUs and toUs (profile clock, CLOCK_MONOTONIC µs). */
export function analyse(profile, window = {}) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  let inWindow = 0;
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i] ?? 0;
    if ((window.fromUs !== undefined && at < window.fromUs) || (window.toUs !== undefined && at > window.toUs)) continue;
    inWindow++;
    const dt = timeDeltas[i + 1] ?? timeDeltas[i] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  if (inWindow === 0) throw new Error('no sample in the requested window (profile clock differs?)');
  const total = [...selfUs.values()].reduce((s, v) => s + v, 0);
  const label = (n) => {
    const cf = n.callFrame;
    const fn = cf.functionName || '(anonymous)';
    const src = toSource(cf.url, cf.lineNumber, cf.columnNumber);
    const where = src ?? (cf.url ? `${shortFile(cf.url)}:${cf.lineNumber + 1}` : '');
    return { key: `${fn} ${where}`, fn, where, pkg: packageOf(cf.url, fn), file: src ? src.replace(/:\d+$/, '') : shortFile(cf.url) };
  };
  const labels = new Map(profile.nodes.map((n) => [n.id, label(n)]));
  const byFn = new Map();
  const byFile = new Map();
  const byPkg = new Map();
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  const inclusive = new Map();
  const inclusivePkg = new Map();
  for (const [id, us] of selfUs) {
    const l = labels.get(id);
    add(byFn, l.key, us);
    add(byFile, l.file, us);
    add(byPkg, l.pkg, us);
    // Inclusive time: every distinct function on the sampled stack gets the sample once.
    const seen = new Set();
    const seenPkg = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const lab = labels.get(cur);
      if (!seenPkg.has(lab.pkg)) {
        seenPkg.add(lab.pkg);
        add(inclusivePkg, lab.pkg, us);
      }
      if (seen.has(lab.key)) continue;
      seen.add(lab.key);
      add(inclusive, lab.key, us);
    }
  }
  const pct = (us) => Math.round((us / total) * 1000) / 10;
  const perReq = (us) => (window.requests ? Math.round((us / window.requests) * 10) / 10 : undefined);
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ what: k, ms: Math.round(us / 1000), pct: pct(us), usPerReq: perReq(us) }));
  const idle = selfUs.get([...nodes.values()].find((n) => n.callFrame.functionName === '(idle)')?.id) ?? 0;
  return {
    samples: inWindow,
    totalMs: Math.round(total / 1000),
    idlePct: pct(idle),
    top: (n) => ({
      selfByFunction: top(byFn, n),
      selfByFile: top(byFile, n),
      selfByPackage: top(byPkg, n),
      inclusiveByPackage: top(new Map([...inclusivePkg].filter(([k]) => !k.startsWith('(') && k !== 'node:internal')), n),
      inclusiveService: top(new Map([...inclusive].filter(([k]) => / src\//.test(k))), n),
      inclusiveAll: top(new Map([...inclusive].filter(([k]) => !k.startsWith('(root)') && !k.startsWith('(program)') && !k.startsWith('(idle)'))), n),
    }),
  };
}

export function printReport(file, n = 25, out = process.stdout, window = {}) {
  const a = analyse(JSON.parse(readFileSync(file, 'utf8')), window);
  const t = a.top(n);
  const w = (s) => out.write(`${s}\n`);
  w(
    `profile ${relative(process.cwd(), file)}: ${a.totalMs} ms sampled (${a.samples} samples${window.requests ? `, ${window.requests} requests` : ''}), idle ${a.idlePct}%`,
  );
  for (const [title, rows] of [
    ['self time by function', t.selfByFunction],
    ['self time by package', t.selfByPackage],
    ['self time by file', t.selfByFile],
    ['inclusive time by package (in it or in what it calls)', t.inclusiveByPackage],
    ['inclusive time, service code (src/ via source maps)', t.inclusiveService],
    ['inclusive time, all functions', t.inclusiveAll],
  ]) {
    w(`\n== ${title}`);
    for (const r of rows)
      w(
        `${String(r.pct).padStart(6)}%  ${String(r.ms).padStart(6)} ms${r.usPerReq !== undefined ? `  ${String(r.usPerReq).padStart(6)} µs/req` : ''}  ${r.what}`,
      );
  }
  return { file: relative(root, file), samples: a.samples, totalMs: a.totalMs, idlePct: a.idlePct, ...t };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '25' },
      json: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      requests: { type: 'string' },
    },
  });
  let file = positionals[0] ?? join(here, 'out');
  if (statSync(file).isDirectory()) file = newestProfile(file);
  const num = (v) => (v === undefined ? undefined : Number(v));
  const report = printReport(file, Number(values.top), process.stdout, { fromUs: num(values.from), toUs: num(values.to), requests: num(values.requests) });
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2));
}
