import { parseArgs } from 'node:util';
import { Context, openNats, openWarehouseMigrated, startOps } from '../context.ts';
import { removeInstance, writeInstance } from '../instance.ts';
import { openControlRole, runProcessRole, runSinkRole, superviseRole, untilAborted } from '../roles.ts';
import { createBotRole, runBotRole, startApiRole } from '../serving-roles.ts';
import { startWorkers } from '../workers.ts';
import { webhookRoute } from '../../bot/index.ts';
import { listAccounts } from '../../control/index.ts';
import { runIngestRole } from './ingest.ts';
import { lifecycle } from './lifecycle.ts';
import { ackedButMissing, rewindSinks } from '../../sinks/index.ts';
import { simulationOptions, SIMULATION_FLAGS, runSimulationRole } from './simulate.ts';
import type { Command } from './command.ts';
import { redactUrl } from '../../common/index.ts';

export const upCommand: Command = {
  reads: 'full',
  async run(argv, config) {
    const { values } = parseArgs({
      args: argv,
      options: {
        simulate: { type: 'boolean', default: false },
        'rewind-sinks': { type: 'boolean', default: false },
        ...SIMULATION_FLAGS,
      },
    });
    const ctx = new Context(config);
    const life = lifecycle(ctx);
    try {
      const nats = await openNats(ctx, { name: 'tgpulse-up' });
      const warehouse = await openWarehouseMigrated(ctx);
      if (values['rewind-sinks']) await rewindSinks(nats.jsm, config.streams, ['raw', 'derived', 'dlq']);
      else {
        const missing = await ackedButMissing(nats.jsm, warehouse, config.streams);
        if (missing > 0) {
          ctx.log.warn(
            { nats: redactUrl(nats.url), acked: missing },
            `the warehouse holds no raw rows, but the sinks on ${redactUrl(nats.url)} have already acked ${missing} messages of TG_RAW: ` +
              'that history will not reach this warehouse. To write again what the streams still keep, restart with `tgpulse up --rewind-sinks`.',
          );
        }
      }
      // Processors and sinks run in one worker per core (or here, with TGPULSE_WORKERS=0).
      const workers =
        config.workers > 0
          ? startWorkers(ctx, config.workers, { TGPULSE_NATS_URL: nats.url, TGPULSE_DATA_DIR: config.dataDir })
          : null;
      if (workers) ctx.onClose('the workers', () => workers.stop());
      const ops = await startOps(ctx, workers ? () => workers.metrics() : undefined);
      const control = await openControlRole(ctx);
      const bot = await createBotRole(ctx, warehouse, control);
      const webhook =
        bot !== null && config.bot.mode === 'webhook' ? [webhookRoute(bot, config.bot.webhookSecret ?? '')] : [];
      const api = await startApiRole(ctx, warehouse, control, webhook);
      writeInstance(config.dataDir, {
        pid: process.pid,
        url: ops.url,
        started_at: Date.now(),
        api_url: api.url,
        // instance.json is readable by other local users' tools: no password in it.
        nats_url: redactUrl(nats.url),
        ...(control.wireUrl ? { postgres_url: control.wireUrl } : {}),
      });
      ctx.onClose('the instance file', async () => removeInstance(config.dataDir, process.pid));
      ctx.log.info(
        {
          ops: ops.url,
          api: api.url,
          nats: redactUrl(nats.url),
          warehouse: config.warehouse.driver,
          dataDir: config.dataDir,
          workers: config.workers,
        },
        'tgpulse up: all roles starting',
      );

      const roles = workers
        ? [
            ctx.stopping.role(
              'workers',
              untilAborted(life.signal).then(() => workers.stop()),
            ),
          ]
        : [
            superviseRole('process', runProcessRole(ctx, nats, life.signal), ctx, life.stop),
            superviseRole('sink', runSinkRole(ctx, nats, warehouse, life.signal), ctx, life.stop),
          ];
      if (bot !== null)
        roles.push(superviseRole('bot', runBotRole(ctx, nats, warehouse, control, bot, life.signal), ctx, life.stop));
      // The collectors join once an account is logged in and the Telegram API is configured (with or without --simulate).
      if (config.mtproto.apiId !== null && (await listAccounts(control.pool)).length > 0) {
        if (config.mtproto.sessionKey === null)
          ctx.log.warn(
            'MTProto accounts exist but TGPULSE_SESSION_KEY is not set: the collectors cannot open their sessions and do not run',
          );
        else roles.push(superviseRole('ingest', runIngestRole(ctx, nats, control.pool, life.signal), ctx, life.stop));
      }
      if (values.simulate)
        roles.push(
          superviseRole(
            'simulate',
            runSimulationRole(ctx, nats, life.signal, simulationOptions(values, config.dataDir)),
            ctx,
            life.stop,
          ),
        );
      const results = await Promise.allSettled(roles);
      const failed = results.filter((r) => r.status === 'rejected');
      ctx.log.info('tgpulse up: stopped cleanly');
      return failed.length ? 1 : 0;
    } finally {
      await ctx.close();
      life.dispose();
    }
  },
};
