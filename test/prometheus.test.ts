/**
 * infra/prometheus/ against the real thing: promtool accepts the scrape
 * config and the rules and passes the rules' unit tests; a real Prometheus,
 * on a config derived from the committed one, scrapes a running
 * `tgpulse up --simulate` (with the bot, on a fake Bot API) and a waiting
 * `tgpulse ingest` (the collectors' metrics), evaluates every rule without
 * error, and every metric the rules and the Grafana dashboards query is in
 * what it scraped.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyFreePort } from '../clickhouse/local-server/child.ts';
import { sleep } from '../common/retry.ts';
import { FakeBotApi } from './support/fake-bot-api.ts';
import { startTestNats, tempDir, type TestNats } from './support/nats.ts';
import { dashboardQueries, metricNames } from './support/promql.ts';
import { prometheusBinaries, promtool, startPrometheus, type PrometheusServer } from './support/prometheus.ts';
import { killRole, spawnRole, stopRole, type RoleProcess } from './support/roles.ts';
import { until } from './support/until.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PROM_DIR = join(ROOT, 'infra', 'prometheus');
const DASHBOARD_DIR = join(ROOT, 'infra', 'grafana', 'dashboards');

const yamlFiles = (dir: string) =>
  readdirSync(join(PROM_DIR, dir))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => join(dir, f));

describe('infra/prometheus with promtool', () => {
  beforeAll(() => void prometheusBinaries());

  it('accepts the scrape config and the rules, and the rules pass their unit tests', () => {
    for (const args of [
      ['check', 'config', 'prometheus.yml'],
      ['check', 'rules', ...yamlFiles('rules')],
      ['test', 'rules', ...yamlFiles('tests')],
    ]) {
      const r = promtool(args, PROM_DIR);
      expect(r.status, `promtool ${args.join(' ')}:\n${r.output}`).toBe(0);
    }
  });

  it('has a unit test for every alert', () => {
    const names = (dir: string, re: RegExp) =>
      new Set(
        yamlFiles(dir).flatMap((f) => [...readFileSync(join(PROM_DIR, f), 'utf8').matchAll(re)].map((m) => m[1])),
      );
    const alerts = names('rules', /^\s*- alert:\s*(\S+)/gm);
    const tested = names('tests', /^\s*alertname:\s*(\S+)/gm);
    expect(alerts.size).toBeGreaterThanOrEqual(8);
    expect([...alerts].filter((a) => !tested.has(a))).toEqual([]);
  });

  it('reads metric names out of PromQL', () => {
    expect(
      metricNames(
        'max by (partition) (label_replace(lag{consumer=~"p_.+"}, "partition", "$1", "consumer", "(.*)") ' +
          'and on (job, partition) owned == 1) / on () group_left () clamp_min(sum(rate(ev_total[5m] offset 1h)) or vector(0), 1e3)',
      ).sort(),
    ).toEqual(['ev_total', 'lag', 'owned']);
    expect(
      metricNames('histogram_quantile(0.99, sum by (le) (rate(h_bucket{job=~"$job"}[$__rate_interval])))'),
    ).toEqual(['h_bucket']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, which may be part of a name
    expect(metricNames('topk($n, ${prefix}_total) > bool inf')).toEqual([]);
  });
});

/** The names a target's exposition declares, histogram and summary series included (a family may have no samples yet). */
function declaredNames(exposition: string): string[] {
  const suffixes: Record<string, string[]> = {
    histogram: ['_bucket', '_sum', '_count'],
    summary: ['', '_sum', '_count'],
  };
  return [...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
    (suffixes[type] ?? ['']).map((s) => name + s),
  );
}

/** Where each metric name is used: rule groups by file and alert, dashboards by file and panel. */
function usesOf(queries: Array<{ where: string; expr: string }>): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  for (const q of queries) for (const name of metricNames(q.expr)) uses.set(name, [...(uses.get(name) ?? []), q.where]);
  return uses;
}

interface RuleGroups {
  groups: Array<{
    name: string;
    file: string;
    rules: Array<{ name: string; query: string; health: string; lastError?: string; lastEvaluation: string }>;
  }>;
}

describe('Prometheus scraping tgpulse up --simulate', () => {
  let nats: TestNats | null = null;
  const fake = new FakeBotApi();
  const dirs: string[] = [];
  const roles: RoleProcess[] = [];
  let prometheus: PrometheusServer | null = null;
  const ops = { up: '', ingest: '' };

  const logs = () =>
    [
      ...roles.map((r) => `--- tgpulse ${r.name}:\n${r.output().slice(-3000)}`),
      `--- prometheus:\n${prometheus?.output() ?? ''}`,
    ].join('\n');

  beforeAll(async () => {
    prometheusBinaries();
    nats = await startTestNats();
    await fake.start();
    const common = { TGPULSE_NATS_URL: nats.url, TGPULSE_LOG_LEVEL: 'warn' };
    const upDir = tempDir('prometheus-up');
    dirs.push(upDir);
    roles.push(
      spawnRole('up', ['--simulate', '--channels', '4', '--days', '2'], {
        ...common,
        TGPULSE_DATA_DIR: upDir,
        TGPULSE_WORKERS: '1',
        TGPULSE_HTTP_PORT: '0',
        TGPULSE_API_PORT: '0',
        TGPULSE_WAREHOUSE_HTTP_PORT: '0',
        TGPULSE_WAREHOUSE_NATIVE_PORT: '0',
        // The bot and its notifier (and their metrics) run when a token is set; Telegram is the local fake.
        TGPULSE_BOT_TOKEN: fake.token,
        TGPULSE_BOT_API_ROOT: fake.url,
      }),
    );
    // The collectors' metrics: `tgpulse ingest` registers them and waits, no account being logged in.
    const ingestDir = tempDir('prometheus-ingest');
    dirs.push(ingestDir);
    const ingestPort = await anyFreePort();
    ops.ingest = `127.0.0.1:${ingestPort}`;
    roles.push(
      spawnRole('ingest', [], {
        ...common,
        TGPULSE_DATA_DIR: ingestDir,
        TGPULSE_HTTP_PORT: String(ingestPort),
        TGPULSE_TG_API_ID: '12345',
        TGPULSE_TG_API_HASH: '0123456789abcdef0123456789abcdef',
        TGPULSE_SESSION_KEY: '42'.repeat(32),
      }),
    );
    // `up` writes where its ops endpoint listens once it serves (`tgpulse status` reads the same file).
    const instance = join(upDir, 'instance.json');
    const upUrl = await until(
      'tgpulse up serving its ops endpoint',
      () => {
        for (const r of roles) if (r.child.exitCode !== null) throw new Error(`tgpulse ${r.name} exited:\n${logs()}`);
        try {
          return (JSON.parse(readFileSync(instance, 'utf8')) as { url: string }).url;
        } catch {
          return null; // not written yet
        }
      },
      150_000,
      200,
    );
    ops.up = new URL(upUrl).host;
    prometheus = await startPrometheus(derivedConfig());
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    // Each drains and exits on SIGTERM; one that does not within 40 s is killed (its children die with it).
    const stopped = new AbortController();
    // (A no-op for those that exited: the sleep ends early once they all did.)
    const deadline = sleep(40_000, stopped.signal).then(() => Promise.all(roles.map(killRole)));
    await Promise.race([Promise.all(roles.map(stopRole)), deadline]);
    stopped.abort();
    await deadline;
    await nats?.stop();
    await fake.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }, 60_000);

  /** The committed config, scraping every second the two processes this test runs; rules from the repository. */
  function derivedConfig(): string {
    let text = readFileSync(join(PROM_DIR, 'prometheus.yml'), 'utf8');
    const swap = (from: string, to: string) => {
      if (!text.includes(from))
        throw new Error(`infra/prometheus/prometheus.yml no longer has ${from}: update test/prometheus.test.ts`);
      text = text.replace(from, to);
    };
    swap('scrape_interval: 15s', 'scrape_interval: 1s');
    swap('evaluation_interval: 15s', 'evaluation_interval: 1s');
    swap('- rules/*.yml', `- ${join(PROM_DIR, 'rules')}/*.yml`);
    swap(`'127.0.0.1:9464'`, `'${ops.up}'`);
    swap(`'tgpulse-ingest:9464'`, `'${ops.ingest}'`);
    return text;
  }

  it('scrapes up (its worker included) and ingest, and evaluates every rule without error', async () => {
    const p = prometheus!;
    await until(
      'both targets up',
      async () => {
        const { activeTargets } = await p.api<{ activeTargets: Array<{ labels: { job: string }; health: string }> }>(
          'targets',
        );
        const up = new Set(activeTargets.filter((t) => t.health === 'up').map((t) => t.labels.job));
        return up.has('tgpulse-up') && up.has('tgpulse-ingest');
      },
      30_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
    const count = async (selector: string) => {
      const { result } = await p.api<{ result: Array<{ value: [number, string] }> }>(
        `query?query=${encodeURIComponent(`count(${selector})`)}`,
      );
      return Number(result[0]?.value[1] ?? 0);
    };
    // Samples from the parent, from its worker (through the parent's endpoint) and from the collector process,
    // whose collector families exist once it has opened its control plane (its endpoint serves before that).
    await until(
      'tgpulse samples in Prometheus',
      async () =>
        (await count('{job="tgpulse-up", __name__=~"tgpulse_.+", worker=""}')) > 0 &&
        (await count('tgpulse_partition_owned{job="tgpulse-up", worker="0"}')) > 0 &&
        (await count('{job="tgpulse-ingest", __name__=~"tgpulse_.+"}')) > 0 &&
        declaredNames(await (await fetch(`http://${ops.ingest}/metrics`)).text()).includes(
          'tgpulse_mtproto_requests_total',
        ),
      60_000,
      500,
    );
    const { groups } = await until(
      'every rule evaluated',
      async () => {
        const rules = await p.api<RuleGroups>('rules');
        return rules.groups.every((g) => g.rules.every((r) => r.health !== 'unknown')) ? rules : null;
      },
      30_000,
      250,
    );
    expect(new Set(groups.map((g) => g.file.split('/').pop()))).toEqual(
      new Set(yamlFiles('rules').map((f) => f.split('/').pop())),
    );
    const failing = groups.flatMap((g) => g.rules.filter((r) => r.health !== 'ok'));
    expect(failing.map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
  });

  it('has every metric the rules and the Grafana dashboards query', async () => {
    const p = prometheus!;
    const { groups } = await p.api<RuleGroups>('rules');
    const queries = groups.flatMap((g) =>
      g.rules.map((r) => ({ where: `${g.file.split('/').pop()}: ${r.name}`, expr: r.query })),
    );
    const dashboards = existsSync(DASHBOARD_DIR) ? readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')) : [];
    for (const file of dashboards) {
      const json: unknown = JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8'));
      for (const q of dashboardQueries(file, json)) queries.push({ where: `${q.file}: ${q.panel}`, expr: q.expr });
    }
    const uses = usesOf(queries);
    expect(uses.size).toBeGreaterThan(0);

    // What Prometheus holds samples of (its own `up` and scrape series too), and every family the
    // targets declare: a labelled counter has no sample until its first event (no dead letter yet).
    const scraped = new Set(await p.api<string[]>('label/__name__/values'));
    for (const host of [ops.up, ops.ingest])
      for (const name of declaredNames(await (await fetch(`http://${host}/metrics`)).text())) scraped.add(name);

    const missing = [...uses].filter(([name]) => !scraped.has(name));
    const report = missing.map(([name, where]) => {
      const hint = scraped.has(`${name}_bucket`) ? ` (a histogram: query ${name}_bucket, _sum or _count)` : '';
      return `${name}${hint}, used by ${[...new Set(where)].join('; ')}`;
    });
    expect(report, `metrics not exported by tgpulse:\n${report.join('\n')}`).toEqual([]);
  });
});
