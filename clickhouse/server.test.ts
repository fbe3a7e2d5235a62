import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isContentError, WarehouseError } from './errors.ts';
import { loadMigrations, migrate, migrationStatements, renderTargetFor } from './migrate.ts';
import { SINGLE_NODE } from './template.ts';
import type { Warehouse, WarehouseConfig } from './warehouse.ts';
import { openWarehouse } from './open.ts';

/** What the fake server saw of one request. */
interface SeenRequest {
  params: URLSearchParams;
  authorization: string | undefined;
  body: string;
  bytes: Buffer;
}

const MEMBERS_COLUMNS = [
  { name: 'id', type: 'String', default_type: '' },
  { name: 'members', type: 'UInt64', default_type: '' },
  { name: 'ingested_at', type: "DateTime64(3, 'UTC')", default_type: 'DEFAULT' },
];

/** How the fake answers one request; `undefined` = like ClickHouse would for a good request. */
type Answer = { status: number; body: string; exceptionCode?: number } | 'reset' | undefined;

/**
 * A minimal stand-in for ClickHouse's HTTP interface: checks the credentials
 * and database, records each request, and answers SELECT and DESCRIBE with JSONEachRow.
 */
class FakeClickHouse {
  readonly seen: SeenRequest[] = [];
  /** Scripted answers, consumed one per request (then the default behaviour). */
  script: Answer[] = [];
  /** JSONEachRow rows for a SELECT, by a substring of the query. */
  rows: Array<{ match: string; rows: object[] }> = [];
  /** What DESCRIBE TABLE answers, by table. */
  readonly tables: Record<string, object[]> = {
    raw_channel_members: MEMBERS_COLUMNS,
    raw_posts: [{ name: 'id', type: 'String', default_type: '' }],
    schema_migrations: [
      { name: 'version', type: 'UInt32', default_type: '' },
      { name: 'name', type: 'String', default_type: '' },
      { name: 'checksum', type: 'String', default_type: '' },
      { name: 'applied_at', type: "DateTime64(3, 'UTC')", default_type: '' },
    ],
  };
  #server: Server = createServer((req, res) => this.#handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = {
        params: new URL(req.url ?? '/', 'http://fake').searchParams,
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
        bytes: Buffer.concat(chunks),
      };
      this.seen.push(seen);
      const answer = this.script.shift();
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      if (answer !== undefined) return this.#reply(res, answer);
      if (seen.authorization !== `Basic ${Buffer.from('tg:s3cr3t:x').toString('base64')}`) {
        return this.#reply(res, {
          status: 403,
          exceptionCode: 516,
          body: 'Code: 516. DB::Exception: tg: Authentication failed. (AUTHENTICATION_FAILED) (version 24.8.1.1)\n',
        });
      }
      if (seen.params.get('database') !== 'tgpulse') {
        return this.#reply(res, {
          status: 404,
          exceptionCode: 81,
          body: 'Code: 81. DB::Exception: Database x does not exist. (UNKNOWN_DATABASE) (version 24.8.1.1)\n',
        });
      }
      const query = seen.params.get('query') ?? seen.body;
      const described = /^DESCRIBE TABLE (\w+)/.exec(query.trimStart());
      const rows = described
        ? (this.tables[described[1]] ?? [])
        : query.trimStart().startsWith('SELECT')
          ? (this.rows.find((r) => query.includes(r.match))?.rows ?? [])
          : [];
      const body = rows.map((r) => `${JSON.stringify(r)}\n`).join('');
      this.#reply(res, { status: 200, body });
    });
  }

  #reply(res: ServerResponse, a: { status: number; body: string; exceptionCode?: number }): void {
    const headers: Record<string, string> = {
      'Content-Type': a.status === 200 ? 'application/x-ndjson; charset=UTF-8' : 'text/plain; charset=UTF-8',
    };
    if (a.exceptionCode !== undefined) headers['X-ClickHouse-Exception-Code'] = String(a.exceptionCode);
    res.writeHead(a.status, headers).end(a.body);
  }
}

/** The statement of a request: in the URL when a body carries data, else the body's first line. */
const statement = (r: SeenRequest) => r.params.get('query') ?? r.body.trim().split('\n')[0].trim();

const SYNTAX_ERROR = {
  status: 500,
  exceptionCode: 62,
  body: "Code: 62. DB::Exception: Syntax error: failed at position 1 ('SELEC'): SELEC 1. Expected one of: ... (SYNTAX_ERROR) (version 24.8.1.1)\n",
};
const UNAVAILABLE = { status: 503, body: 'Service Unavailable\n' };

describe('server warehouse against a fake ClickHouse', () => {
  const fake = new FakeClickHouse();
  let cfg: Extract<WarehouseConfig, { driver: 'server' }>;
  let wh: Warehouse;

  beforeAll(async () => {
    cfg = {
      driver: 'server',
      url: await fake.start(),
      username: 'tg',
      password: 's3cr3t:x',
      database: 'tgpulse',
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    };
    wh = await openWarehouse(cfg);
  });
  afterAll(async () => {
    await wh?.close();
    await fake.stop();
  });
  beforeEach(() => {
    fake.seen.length = 0;
    fake.script = [];
    fake.rows = [];
  });

  it('sends query parameters as param_<name>, never in the SQL, and reads JSONEachRow', async () => {
    fake.rows = [
      {
        match: 'FROM raw_posts',
        rows: [
          { id: 'p_1', views: '9007199254740993' },
          { id: 'p_2', views: '1' },
        ],
      },
    ];
    const sneaky = "p_1' OR 1=1 --\n";
    const rows = await wh.query('SELECT id, views FROM raw_posts WHERE id = {id:String} AND channel_id = {c:String}', {
      id: sneaky,
      c: '-100',
    });
    expect(rows).toEqual([
      { id: 'p_1', views: '9007199254740993' },
      { id: 'p_2', views: '1' },
    ]);

    const [req] = fake.seen;
    expect(req.body).toContain('WHERE id = {id:String} AND channel_id = {c:String}');
    expect(req.body).not.toContain('OR 1=1');
    // The client escapes for the TSV-style parameter transport; the server unescapes and binds.
    expect(req.params.get('param_id')).toBe("p_1\\' OR 1=1 --\\n");
    expect(req.params.get('param_c')).toBe('-100');
    expect(req.params.get('database')).toBe('tgpulse');
    expect(req.authorization).toBe(`Basic ${Buffer.from('tg:s3cr3t:x').toString('base64')}`);
    expect(req.params.get('output_format_json_quote_64bit_integers')).toBe('1');
  });

  it('describes the table once, then inserts RowBinaryWithDefaults with the dedup token', async () => {
    await wh.insertRows(
      'raw_channel_members',
      [
        { id: 'cm_1', members: 5 },
        { id: 'cm_2', members: 2 ** 40 },
      ],
      { dedupToken: 'TG_RAW:10-19' },
    );
    await wh.insertRows('raw_channel_members', [{ id: 'cm_3', members: 7 }]);
    expect(fake.seen.map(statement)).toEqual([
      'DESCRIBE TABLE raw_channel_members',
      'INSERT INTO raw_channel_members (`id`, `members`, `ingested_at`) FORMAT RowBinaryWithDefaults',
      'INSERT INTO raw_channel_members (`id`, `members`, `ingested_at`) FORMAT RowBinaryWithDefaults',
    ]);
    const req = fake.seen[1];
    expect(req.params.get('insert_deduplication_token')).toBe('TG_RAW:10-19');
    expect(req.params.get('insert_deduplicate')).toBe('1');
    // Per value a "default?" byte; a string is its length and bytes; UInt64 is 8 bytes little-endian; ingested_at takes its default.
    expect(req.bytes.toString('hex')).toBe(
      [
        '00',
        '04',
        Buffer.from('cm_1').toString('hex'),
        '00',
        '0500000000000000',
        '01',
        '00',
        '04',
        Buffer.from('cm_2').toString('hex'),
        '00',
        '0000000000010000',
        '01',
      ].join(''),
    );
  });

  it('refuses a row key that is not a column, before sending anything', async () => {
    fake.tables.members_copy = MEMBERS_COLUMNS;
    const err = (await wh
      .insertRows('members_copy', [{ id: 'cm_1', members: 5, bogus: 1 }])
      .catch((e: unknown) => e)) as WarehouseError;
    expect(err).toBeInstanceOf(WarehouseError);
    expect(err.message).toBe(
      'ClickHouse insert failed (server) into members_copy: "bogus" is not a column of members_copy',
    );
    expect(isContentError(err)).toBe(true);
    expect(fake.seen.map(statement)).toEqual(['DESCRIBE TABLE members_copy']);
  });

  it('retries a 503 and then succeeds', async () => {
    fake.script = [UNAVAILABLE];
    fake.rows = [{ match: 'SELECT 42', rows: [{ answer: 42 }] }];
    expect(await wh.query('SELECT 42 AS answer')).toEqual([{ answer: 42 }]);
    expect(fake.seen).toHaveLength(2);
  });

  it('retries a reset connection and an overloaded server, resending the same insert', async () => {
    await wh.insertRows('raw_posts', [{ id: 'p_8' }]);
    fake.seen.length = 0;
    fake.script = [
      'reset',
      {
        status: 503,
        exceptionCode: 202,
        body: 'Code: 202. DB::Exception: Too many simultaneous queries. (TOO_MANY_SIMULTANEOUS_QUERIES) (version 24.8.1.1)\n',
      },
    ];
    await wh.insertRows('raw_posts', [{ id: 'p_9' }], { dedupToken: 'tok-9' });
    expect(fake.seen).toHaveLength(3);
    expect(
      new Set(fake.seen.map((r) => `${r.params.get('insert_deduplication_token')}|${r.bytes.toString('hex')}`)),
    ).toEqual(new Set([`tok-9|0003${Buffer.from('p_9').toString('hex')}`]));
  });

  it('gives up after the configured attempts and says so', async () => {
    fake.script = [UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, UNAVAILABLE];
    const err = (await wh.query('SELECT 1 FROM channel_hourly').catch((e: unknown) => e)) as WarehouseError;
    expect(err).toBeInstanceOf(WarehouseError);
    expect(err).toMatchObject({ driver: 'server', operation: 'query', attempts: 3 });
    expect(err.message).toBe(
      'ClickHouse query failed (server) [SELECT 1 FROM channel_hourly] after 3 attempts: Service Unavailable\n',
    );
    expect(fake.seen).toHaveLength(3);
  });

  it('surfaces a ClickHouse exception at once, with the query and the exception code', async () => {
    fake.script = [SYNTAX_ERROR];
    const err = (await wh.query('SELEC 1').catch((e: unknown) => e)) as WarehouseError;
    expect(err).toBeInstanceOf(WarehouseError);
    expect(err).toMatchObject({
      driver: 'server',
      operation: 'query',
      target: 'SELEC 1',
      clickhouseCode: 62,
      attempts: 1,
    });
    expect(err.message).toMatch(/^ClickHouse query failed \(server\) \[SELEC 1\]: Syntax error/);
    expect(err.cause).toBeInstanceOf(Error);
    expect(fake.seen).toHaveLength(1);
  });

  it('names the table of a failed insert', async () => {
    fake.script = [
      {
        status: 404,
        exceptionCode: 60,
        body: 'Code: 60. DB::Exception: Table tgpulse.nope does not exist. (UNKNOWN_TABLE) (version 24.8.1.1)\n',
      },
    ];
    await expect(wh.insertRows('nope', [{ a: 1 }])).rejects.toThrow(
      /^ClickHouse insert failed \(server\) into nope: Table tgpulse\.nope does not exist/,
    );
  });

  it('ping checks credentials with one attempt', async () => {
    await wh.ping();
    const wrong = await openWarehouse({ ...cfg, password: 'wrong' });
    try {
      await expect(wrong.ping()).rejects.toMatchObject({ operation: 'ping', clickhouseCode: 516, attempts: 1 });
    } finally {
      await wrong.close();
    }
  });

  it('sends the migrations as the very statements the embedded driver runs', async () => {
    const result = await migrate(wh, { now: () => Date.UTC(2024, 0, 1) });
    const migrations = await loadMigrations();
    expect(result.applied.map((m) => m.file)).toEqual(migrations.map((m) => m.file));

    const commands = fake.seen
      .filter((r) => !r.params.has('query') && !r.body.includes('FORMAT JSONEachRow'))
      .map((r) => r.body);
    const expected = migrations.flatMap((m) => migrationStatements(m, SINGLE_NODE));
    expect(commands.slice(1)).toEqual(expected);
    expect(commands[0]).toMatch(/^CREATE TABLE IF NOT EXISTS schema_migrations/);

    const recorded = fake.seen
      .filter((r) => r.params.get('query')?.startsWith('INSERT INTO schema_migrations '))
      .map((r) => r.bytes.toString('hex'));
    // RowBinaryWithDefaults: per value a 0 ("not the default") byte, then UInt32 / length-prefixed strings / Int64 ms.
    const u32 = (n: number) => Buffer.from(Uint32Array.of(n).buffer).toString('hex');
    const str = (x: string) => `${Buffer.byteLength(x).toString(16).padStart(2, '0')}${Buffer.from(x).toString('hex')}`;
    const ms = Buffer.alloc(8);
    ms.writeBigInt64LE(BigInt(Date.UTC(2024, 0, 1)));
    expect(recorded).toEqual(
      migrations.map((m) => `00${u32(m.version)}00${str(m.name)}00${str(m.checksum)}00${ms.toString('hex')}`),
    );
  });

  it('renders cluster DDL when the configuration names a cluster', async () => {
    const clustered = await openWarehouse({ ...cfg, cluster: 'tg_cluster' });
    try {
      await migrate(clustered, { target: renderTargetFor({ ...cfg, cluster: 'tg_cluster' }) });
    } finally {
      await clustered.close();
    }
    const bodies = fake.seen.map((r) => r.body);
    expect(bodies[0]).toMatch(/^CREATE TABLE IF NOT EXISTS schema_migrations ON CLUSTER 'tg_cluster'\n/);
    expect(bodies[0]).toContain(
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', applied_at)",
    );
    expect(bodies).toContain(
      "CREATE TABLE IF NOT EXISTS raw_posts ON CLUSTER 'tg_cluster' AS raw_posts_local ENGINE = Distributed('tg_cluster', 'tgpulse', 'raw_posts_local', cityHash64(channel_id))",
    );
    expect(
      bodies.some((b) =>
        b.startsWith(
          "CREATE MATERIALIZED VIEW IF NOT EXISTS channel_hourly_mv ON CLUSTER 'tg_cluster' TO channel_hourly_local AS",
        ),
      ),
    ).toBe(true);
  });
});
