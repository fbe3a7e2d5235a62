import { Context, openNats, openWarehouseMigrated, startOps } from '../context.ts';
import { openControlRole, superviseRole } from '../roles.ts';
import { createBotRole, runBotRole } from '../serving-roles.ts';
import { lifecycle } from './lifecycle.ts';
import type { Command } from './command.ts';

export const botCommand: Command = {
  reads: 'full',
  async run(_argv, config) {
    if (config.bot.token === null) {
      process.stderr.write('tgpulse bot: set TGPULSE_BOT_TOKEN to the token @BotFather gave you\n');
      return 2;
    }
    if (config.bot.mode === 'webhook') {
      process.stderr.write(
        "tgpulse bot: webhook mode is served by the REST API's server: run `tgpulse up` (or use TGPULSE_BOT_MODE=polling)\n",
      );
      return 2;
    }
    const ctx = new Context(config);
    const life = lifecycle(ctx);
    try {
      const nats = await openNats(ctx, { name: 'tgpulse-bot' });
      const warehouse = await openWarehouseMigrated(ctx);
      const control = await openControlRole(ctx);
      await startOps(ctx);
      const bot = await createBotRole(ctx, warehouse, control);
      await superviseRole('bot', runBotRole(ctx, nats, warehouse, control, bot!, life.signal), ctx, life.stop);
      return 0;
    } finally {
      await ctx.close();
      life.dispose();
    }
  },
};
