/**
 * `tgpulse login`: logs a Telegram user account in (phone, code, 2FA
 * password, asked in the terminal) and stores its session sealed under
 * TGPULSE_SESSION_KEY in the control plane, where the collectors open it.
 * Logging the same phone in again replaces its session and keeps its id.
 * Neither the session nor the key is ever printed.
 */
import { Writable } from 'node:stream';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import type { Pool } from 'pg';
import { Api, type TelegramClient } from 'telegram';
import {
  addAccount,
  checkProxy,
  redactProxy,
  type MtprotoAccount,
  ControlError,
  encryptSession,
} from '../../control/index.ts';
import { apiCredentials, sessionKeyOf, openTelegramClient, type ConnectTelegram } from '../../ingest/mtproto/index.ts';
import { createLogger } from '../../observability/index.ts';
import type { TgpulseConfig } from '../config.ts';
import { CATALOG } from './catalog.ts';
import type { Command } from './command.ts';
import { CLI_ACTOR, isUsageProblem, TERMINAL, withControl, type CliIo, type ControlDeps } from './cli-io.ts';

const USAGE = CATALOG.login.usage;

/** Codes and passwords Telegram says were wrong are asked again, this often. */
const MAX_RETRIES = 3;
const RETRYABLE = /PHONE_CODE_INVALID|PHONE_CODE_EMPTY|PASSWORD_HASH_INVALID|PASSWORD_EMPTY/;

/** The answers a login needs; the terminal asks a person, tests answer directly. */
export interface LoginPrompts {
  /** The code Telegram sent (in the app when `viaApp`, else by SMS). */
  code(viaApp: boolean): Promise<string>;
  /** The account's two-step verification password. */
  password(hint: string | undefined): Promise<string>;
}

export interface LoginOptions {
  /** A connected client with an empty (or the phone's old) session. */
  client: TelegramClient;
  control: Pool;
  sessionKey: Buffer;
  /** International form, `+` and digits. */
  phone: string;
  prompts: LoginPrompts;
  /** Stored with the account; omitted keeps the proxy of a re-login. */
  proxy?: string | null;
  io: CliIo;
}

/** `+49 151 1234-5678` → `+4915112345678`; a missing `+` is added. */
export function normalizePhone(text: string): string {
  const digits = text.replace(/[\s().-]/g, '');
  return digits.startsWith('+') ? digits : `+${digits}`;
}

/**
 * The non-interactive core of `tgpulse login`: signs the client in (unless
 * its session already is), then stores the session sealed for the account's
 * id, replacing the session of a known phone.
 *
 * @throws Error when Telegram did not accept the login; ControlError for a malformed phone or proxy.
 */
export async function loginAccount(opts: LoginOptions): Promise<MtprotoAccount> {
  const { client, io } = opts;
  let failures = 0;
  await client.start({
    phoneNumber: opts.phone,
    phoneCode: (viaApp) => opts.prompts.code(viaApp === true),
    password: (hint) => opts.prompts.password(hint),
    onError: async (err: Error) => {
      const message =
        err instanceof Error ? ((err as Error & { errorMessage?: string }).errorMessage ?? err.message) : String(err);
      failures++;
      const retry = RETRYABLE.test(message) && failures < MAX_RETRIES;
      io.err(retry ? `Telegram refused that (${message}); try again.\n` : `Telegram refused the login: ${message}\n`);
      return !retry;
    },
  });
  // gramjs ends `start` quietly when its own attempts ran out: check rather than trust it.
  if (!(await client.checkAuthorization()))
    throw new Error(
      'the login did not complete: Telegram did not accept the code or password; run tgpulse login again',
    );
  const me = await client.getMe();
  const userId = me instanceof Api.User ? me.id.toString() : null;
  const session = client.session.save() as unknown as string;
  if (typeof session !== 'string' || session === '')
    throw new Error('the login produced no session to store; run tgpulse login again');
  return addAccount(
    opts.control,
    {
      phone: opts.phone,
      userId,
      sealSession: (id) => encryptSession(session, opts.sessionKey, id),
      ...(opts.proxy !== undefined ? { proxy: opts.proxy } : {}),
    },
    { actor: CLI_ACTOR },
  );
}

/**
 * Questions in the terminal; hidden ones (the password) are not echoed. The
 * output goes through a writable that drops readline's echo while muted.
 */
export function terminalPrompter(): { ask(question: string, hidden?: boolean): Promise<string>; close(): void } {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stdout.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: process.stdin.isTTY === true });
  return {
    async ask(question, hidden = false) {
      process.stdout.write(question);
      muted = hidden;
      try {
        return (await rl.question('')).trim();
      } finally {
        if (hidden) process.stdout.write('\n');
        muted = false;
      }
    },
    close: () => rl.close(),
  };
}

export interface LoginDeps extends ControlDeps {
  /** How to reach Telegram (default: the network). */
  connect?: ConnectTelegram;
}

/** Runs `tgpulse login`. */
export async function runLogin(argv: string[], config: TgpulseConfig, deps: LoginDeps = {}): Promise<number> {
  const io = deps.io ?? TERMINAL;
  let values: { phone?: string; proxy?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { phone: { type: 'string' }, proxy: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    if (!isUsageProblem(err)) throw err;
    io.err(`tgpulse login: ${(err as Error).message}\nusage: ${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.out(`usage: ${USAGE}\n`);
    return 0;
  }
  const creds = apiCredentials(config.mtproto);
  const key = sessionKeyOf(config.mtproto);
  for (const problem of [creds.ok ? null : creds.problem, key.ok ? null : key.problem])
    if (problem) io.err(`tgpulse login: ${problem}\n`);
  if (!creds.ok || !key.ok) return 2;
  let proxy: string | undefined;
  try {
    proxy = values.proxy === undefined ? undefined : checkProxy(values.proxy);
  } catch (err) {
    if (err instanceof ControlError) {
      io.err(`tgpulse login: invalid --proxy: ${err.problem}\n`);
      return 2;
    }
    throw err;
  }
  const log = deps.log ?? createLogger(config.logLevel, { format: config.logFormat });
  const prompter = terminalPrompter();
  try {
    const phone = normalizePhone(
      values.phone ?? (await prompter.ask('Phone number (international, e.g. +4915112345678): ')),
    );
    const connect = deps.connect ?? openTelegramClient;
    io.out(`Connecting to Telegram${proxy ? ` through ${redactProxy(proxy)}` : ''}…\n`);
    const client = await connect({
      session: '',
      apiId: creds.apiId,
      apiHash: creds.apiHash,
      proxy: proxy ?? null,
      log,
    });
    try {
      return await withControl('login', config, { ...deps, io, log }, async (pool) => {
        const account = await loginAccount({
          client,
          control: pool,
          sessionKey: key.key,
          phone,
          proxy,
          io,
          prompts: {
            code: (viaApp) =>
              prompter.ask(viaApp ? 'Code Telegram sent to your Telegram app: ' : 'Code Telegram sent by SMS: '),
            password: (hint) => prompter.ask(`Two-step verification password${hint ? ` (hint: ${hint})` : ''}: `, true),
          },
        });
        io.out(
          `Logged in ${account.phone} (Telegram user ${account.userId ?? '?'}) as account ${account.id}; the session is stored sealed.\n`,
        );
        io.out('Next: `tgpulse channels add @name`, then `tgpulse ingest` (or `tgpulse up`).\n');
        return 0;
      });
    } finally {
      await client.destroy().catch(() => undefined);
    }
  } finally {
    prompter.close();
  }
}

/** Logs a Telegram account in for the collectors. */
export const loginCommand: Command = {
  reads: 'full',
  run: (argv, config) => runLogin(argv, config),
};
