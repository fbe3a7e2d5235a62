/**
 * The bot's commands in one list: it feeds the menu Telegram shows
 * (`setMyCommands`), /help, the reply to an unknown command, and the usage
 * line of every error, so none of them can drift from the others.
 */
import { html } from '../format.ts';

/** One command as users see it in the menu, /help and usage lines. */
export interface CommandInfo {
  /** Name without the slash. */
  command: string;
  /** Arguments as shown in usage lines: `<required>`, `[optional]`. */
  args: string;
  description: string;
  /** Only bot admins may run it; left out of the menu and of others' /help. */
  adminOnly?: boolean;
}

/** Every command, in the order /help lists them. */
export const COMMANDS: readonly CommandInfo[] = [
  { command: 'start', args: '', description: 'What this bot does, and your channels' },
  { command: 'channels', args: '', description: 'Your channels: subscribers and views in the last 24 hours' },
  { command: 'dashboard', args: '', description: 'Charts of your channels in a Mini App, inside Telegram' },
  {
    command: 'overview',
    args: '[channel] [7d|30d|90d]',
    description: 'Headline figures of a period, against the period before',
  },
  { command: 'growth', args: '[channel] [period]', description: 'Subscribers chart of a period' },
  {
    command: 'forecast',
    args: '[channel] [7d|30d|90d] [subscribers|views]',
    description: 'Where subscribers or daily views are heading, with 80 % and 95 % bands',
  },
  {
    command: 'top',
    args: '[channel] [period] [views|forwards|reactions|engagement]',
    description: 'Best posts of a period',
  },
  { command: 'post', args: '<t.me/c/channel/post>', description: 'One post: its counters and views by age' },
  {
    command: 'anomalies',
    args: '[channel] [period] [info|warning|critical]',
    description: 'Unusual moments of a period',
  },
  {
    command: 'besttime',
    args: '[channel] [period] [time zone]',
    description: 'The hours of the week when posts do best',
  },
  { command: 'export', args: '[channel] [period] [hour|day|week]', description: 'The growth series as a CSV file' },
  { command: 'share', args: '[channel] [period]', description: 'A read-only link to a report, valid for 7 days' },
  {
    command: 'alerts',
    args: '[add <channel> [options] | remove <channel>]',
    description: 'Anomaly alerts in this chat',
  },
  { command: 'verify', args: '<channel>', description: 'Get access to a channel you administer' },
  { command: 'track', args: '[@channel]', description: 'Add a channel you administer, or see the ones you added' },
  {
    command: 'digest',
    args: '[daily|weekly [channel] [time zone] | off [channel]]',
    description: 'A daily or weekly summary of a channel in this chat',
  },
  { command: 'grant', args: '<user id> <channel>', description: 'Let a user see a channel', adminOnly: true },
  {
    command: 'revoke',
    args: '<user id> <channel>',
    description: "Take a user's access to a channel back",
    adminOnly: true,
  },
  { command: 'help', args: '', description: 'The commands and how to use them' },
];

/** `/top [channel] [period] […]`: how to call a command (plain text). */
export function usage(command: string): string {
  const info = COMMANDS.find((c) => c.command === command);
  if (info === undefined) throw new Error(`no command ${JSON.stringify(command)} in the catalog`);
  return `/${info.command} ${info.args}`.trim();
}

/** The command list as HTML, admin commands only for admins. */
export function commandList(isAdmin: boolean): string {
  return COMMANDS.filter((c) => isAdmin || !c.adminOnly)
    .map((c) => `${html(usage(c.command))}\n    ${html(c.description)}`)
    .join('\n');
}
