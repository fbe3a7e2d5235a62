/**
 * The environment of a tgpulse the benches start: one private data folder,
 * every port free, no outside NATS, Postgres, ClickHouse or Telegram, quiet
 * logs. Benches measure tgpulse alone, never a server that happens to run.
 */
export function privateEnv(dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TGPULSE_DATA_DIR: dataDir,
    TGPULSE_LOG_LEVEL: 'warn',
    TGPULSE_HTTP_PORT: '0',
    TGPULSE_API_PORT: '0',
    TGPULSE_WAREHOUSE_HTTP_PORT: '0',
    TGPULSE_WAREHOUSE_NATIVE_PORT: '0',
  };
  for (const name of [
    'TGPULSE_NATS_URL',
    'TGPULSE_POSTGRES_URL',
    'TGPULSE_WAREHOUSE',
    'TGPULSE_BOT_TOKEN',
    'TGPULSE_TG_API_ID',
    'TGPULSE_TG_API_HASH',
  ])
    delete env[name];
  return { ...env, ...extra };
}
