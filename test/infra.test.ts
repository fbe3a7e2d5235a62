/**
 * infra/: the compose file and the Kubernetes manifests configure tgpulse only through
 * documented variables and real commands and mount only files that exist; the NATS
 * configs form a three-node JetStream cluster with authentication (run on loopback).
 * Docker builds and `kubectl apply` are not run here (no registry, no cluster).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../cli/config.ts';
import { isCommandName } from '../cli/commands/catalog.ts';
import { connectNats } from '../streams/nats.ts';
import { NatsCluster } from './support/nats-cluster.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const COMPOSE_DIR = join(ROOT, 'infra/compose');
const DOCUMENTED = new Set(CONFIG_VARIABLES.map((v) => v.name));
const ROLES = ['migrate', 'process', 'sink', 'api', 'bot', 'ingest'];

const tgpulseVars = (env: Record<string, unknown>) => Object.keys(env).filter((k) => k.startsWith('TGPULSE_'));

describe('compose.yaml', () => {
  // Merge keys (`<<: *tgpulse`) as compose resolves them.
  const compose = parse(readFileSync(join(COMPOSE_DIR, 'compose.yaml'), 'utf8'), { merge: true });
  const services: Record<string, any> = compose.services;
  const tgpulse = Object.entries(services).filter(([, s]) => String(s.image).startsWith('tgpulse:'));

  it('runs each role as its own service, with a real tgpulse command', () => {
    expect(tgpulse.map(([name]) => name).sort()).toEqual([...ROLES].sort());
    for (const [name, s] of tgpulse) {
      expect(isCommandName(s.command[0]), `${name}: ${s.command[0]}`).toBe(true);
      expect(s.command[0]).toBe(name);
    }
    expect(services.process.deploy.replicas).toBeDefined();
    expect(services.sink.deploy.replicas).toBeDefined();
    expect(services.migrate.restart).toBe('no');
  });

  it('configures tgpulse only through documented variables, against the external stores', () => {
    for (const [name, s] of tgpulse) {
      for (const v of tgpulseVars(s.environment)) expect(DOCUMENTED.has(v), `${name}: ${v}`).toBe(true);
      expect(s.environment.TGPULSE_WAREHOUSE).toBe('server');
      expect(s.environment.TGPULSE_NATS_URL.split(',')).toHaveLength(3);
      expect(s.environment.TGPULSE_POSTGRES_URL).toMatch(/^postgres:\/\//);
    }
  });

  it('takes every secret from the environment and fails fast without it', () => {
    const text = readFileSync(join(COMPOSE_DIR, 'compose.yaml'), 'utf8');
    for (const key of [
      'TGPULSE_CLICKHOUSE_PASSWORD',
      'TGPULSE_SHARE_SECRET',
      'TGPULSE_BOT_TOKEN',
      'TGPULSE_SESSION_KEY',
      'POSTGRES_PASSWORD',
      'GF_SECURITY_ADMIN_PASSWORD',
      'NATS_TGPULSE_PASSWORD',
    ]) {
      const m = text.match(new RegExp(`^\\s*${key}: (.*)$`, 'm'));
      expect(m?.[1], key).toMatch(/^(\$\{[A-Z_]+:\?\}|'"\$\{[A-Z_]+:\?\}"')$/);
    }
  });

  it('mounts and builds only files that exist', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of (s.volumes ?? []) as string[]) {
        const source = v.split(':')[0];
        if (!source.startsWith('.')) continue; // a named volume
        expect(existsSync(resolve(COMPOSE_DIR, source)), `${name}: ${source}`).toBe(true);
      }
      if (s.build) expect(existsSync(resolve(COMPOSE_DIR, s.build.context, s.build.dockerfile))).toBe(true);
    }
  });
});

describe('k8s manifests', () => {
  const dir = join(ROOT, 'infra/k8s');
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()))
    .filter((d) => d !== null);

  it('sets only documented variables in the ConfigMap and the Secret', () => {
    const maps = docs.filter((d) => d.kind === 'ConfigMap' || d.kind === 'Secret');
    expect(maps).toHaveLength(2);
    for (const m of maps) {
      const keys = Object.keys(m.data ?? m.stringData);
      for (const k of keys) expect(DOCUMENTED.has(k), `${m.kind}: ${k}`).toBe(true);
    }
  });

  it('runs each role with a real command: migrate as a Job, the rest as Deployments', () => {
    const runs = docs
      .filter((d) => d.kind === 'Deployment' || d.kind === 'Job')
      .map((d) => ({ kind: d.kind, args: d.spec.template.spec.containers[0].args }));
    for (const r of runs) expect(isCommandName(r.args[0]), r.args[0]).toBe(true);
    expect(runs.filter((r) => r.kind === 'Job').map((r) => r.args[0])).toEqual(['migrate']);
    expect(runs.map((r) => r.args[0]).sort()).toEqual([...ROLES].sort());
  });

  it('lists every manifest in the kustomization', () => {
    const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
    for (const f of k.resources) expect(existsSync(join(dir, f)), f).toBe(true);
  });
});

describe('infra/nats cluster', () => {
  let cluster: NatsCluster;

  beforeAll(async () => {
    cluster = await NatsCluster.start();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('forms a cluster with a JetStream meta leader, all three nodes current', async () => {
    await cluster.healthy(30_000);
  });

  it('takes an R3 stream from the tgpulse user; refuses a wrong password', async () => {
    const { password } = cluster;
    const urls = cluster.clientPorts.map((p) => `127.0.0.1:${p}`);
    const nc = await connect({ servers: urls, user: 'tgpulse', pass: password });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.add({ name: 'INFRA_R3', subjects: ['infra.r3'], num_replicas: 3 });
      expect(info.cluster?.replicas ?? []).toHaveLength(2);
    } finally {
      await nc.close();
    }
    await expect(connect({ servers: urls, user: 'tgpulse', pass: 'wrong', reconnect: false })).rejects.toThrow();
    // Nobody gets in without credentials.
    await expect(connect({ servers: urls, reconnect: false })).rejects.toThrow();
    // tgpulse logs in with the credentials of TGPULSE_NATS_URL, as compose writes it.
    const tg = await connectNats(cluster.url, 'infra-test');
    try {
      expect((await (await jetstreamManager(tg)).streams.info('INFRA_R3')).config.num_replicas).toBe(3);
    } finally {
      await tg.close();
    }
  });
});
