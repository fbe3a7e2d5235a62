/**
 * A local fake of the Telegram Bot API: a real HTTP server that grammY talks
 * to through `apiRoot`. It answers like Telegram (the `{ ok, result }` and
 * `{ ok: false, error_code, description, parameters }` envelopes), records
 * every call, serves updates to long polling, and can be told to fail:
 * `429` with `retry_after`, or `403` for a chat that blocked the bot.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One recorded Bot API call. */
export interface BotApiCall {
  method: string;
  /** JSON body or multipart text fields (JSON-looking fields parsed). */
  params: Record<string, unknown>;
  /** Files of a multipart call, by field name. */
  files: Record<string, Buffer>;
  at: number;
  /** What the fake answered. */
  status: number;
}

export interface Failure {
  method: string;
  chatId?: string;
  status: 429 | 400 | 403 | 500;
  description: string;
  retryAfter?: number;
  times: number;
}

export const BOT_USER = { id: 7000000001, is_bot: true, first_name: 'tgpulse', username: 'tgpulse_test_bot' };

export class FakeBotApi {
  readonly calls: BotApiCall[] = [];
  #server: Server;
  #updates: Array<Record<string, unknown>> = [];
  #nextUpdateId = 1;
  #nextMessageId = 100;
  #failures: Failure[] = [];
  #blocked = new Map<string, string>();
  #admins = new Map<string, number[]>();
  #chats = new Map<string, Record<string, unknown>>();
  /** Types of the chats users wrote in, by chat id: Telegram allows some buttons in private chats only. */
  #chatTypes = new Map<string, string>();
  #pollWaiters: Array<() => void> = [];
  url = '';

  /** `token`: the bot token the fake accepts (a test of secrets in logs wants one of its own). */
  constructor(readonly token = '7000000001:TEST-token_for_the_fake_api') {
    this.#server = createServer((req, res) => {
      this.#handle(req).then(
        ({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: false, error_code: 500, description: String(err) }));
        },
      );
    });
  }

  async start(): Promise<void> {
    // grammY keeps connections alive; a server closing an idle one just as a request
    // reuses it answers ECONNRESET. Keep them open longer than any test waits.
    this.#server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const wake of this.#pollWaiters.splice(0)) wake();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---- scripting ------------------------------------------------------------------------------

  /** A user writes `text` in a private chat (chat id = user id). */
  say(userId: number, text: string, opts: { username?: string; chatId?: number } = {}): void {
    const chatId = opts.chatId ?? userId;
    this.#chatTypes.set(String(chatId), chatId === userId ? 'private' : 'group');
    const entities = text.startsWith('/')
      ? [{ type: 'bot_command', offset: 0, length: text.split(/\s/)[0].length }]
      : undefined;
    this.#push({
      message: {
        message_id: this.#nextMessageId++,
        date: Math.floor(Date.now() / 1000),
        chat:
          chatId === userId
            ? { id: chatId, type: 'private', first_name: `user${userId}` }
            : { id: chatId, type: 'group', title: 'group' },
        from: {
          id: userId,
          is_bot: false,
          first_name: `user${userId}`,
          ...(opts.username ? { username: opts.username } : {}),
        },
        text,
        ...(entities ? { entities } : {}),
      },
    });
  }

  /** Any other update, as Telegram would send it (an edited message, a channel post…); the update id is added. */
  update(update: Record<string, unknown>): void {
    this.#push(update);
  }

  /** A user presses an inline button carrying `data` under the bot's message `messageId`. */
  press(userId: number, data: string, messageId: number, chatId = userId): void {
    this.#push({
      callback_query: {
        id: String(this.#nextUpdateId * 1000),
        from: { id: userId, is_bot: false, first_name: `user${userId}` },
        chat_instance: '1',
        data,
        message: {
          message_id: messageId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: chatId, type: 'private' },
          text: '…',
        },
      },
    });
  }

  /** The answer of getChatAdministrators for a channel (Bot API chat id, e.g. -1001234). */
  setAdministrators(chatId: string, userIds: number[]): void {
    this.#admins.set(chatId, userIds);
  }

  /** The answer of getChat for a chat, by its id and (when it has one) by `@username`. */
  setChat(chat: {
    id: number;
    type: 'channel' | 'supergroup' | 'group' | 'private';
    title?: string;
    username?: string;
  }): void {
    const full = { ...chat, accent_color_id: 0, max_reaction_count: 11 };
    this.#chats.set(String(chat.id), full);
    if (chat.username !== undefined) this.#chats.set(`@${chat.username.toLowerCase()}`, full);
  }

  /** From now on, sends to this chat fail with 403 like Telegram's for a blocked bot. */
  block(chatId: string, description = 'Forbidden: bot was blocked by the user'): void {
    this.#blocked.set(chatId, description);
  }

  /** The next `times` calls of `method` (to `chatId`, when given) fail. */
  fail(f: Failure): void {
    this.#failures.push({ ...f });
  }

  /** Calls of a method (optionally to one chat), oldest first. */
  sent(method: string, chatId?: string | number): BotApiCall[] {
    return this.calls.filter(
      (c) => c.method === method && (chatId === undefined || String(c.params.chat_id) === String(chatId)),
    );
  }

  /** Successful sends (messages, photos, documents) to a chat. */
  delivered(chatId: string | number): BotApiCall[] {
    return this.calls.filter(
      (c) =>
        c.status === 200 &&
        /^send(Message|Photo|Document)$/.test(c.method) &&
        String(c.params.chat_id) === String(chatId),
    );
  }

  /** Waits until `predicate` holds (checked as calls arrive and every 50 ms). */
  async waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = predicate();
      if (v) return v;
      if (Date.now() > until)
        throw new Error(
          `fake Bot API: condition not met within ${timeoutMs} ms; calls: ${this.calls.map((c) => c.method).join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // ---- the API --------------------------------------------------------------------------------

  #push(update: Record<string, unknown>): void {
    this.#updates.push({ update_id: this.#nextUpdateId++, ...update });
    for (const wake of this.#pollWaiters.splice(0)) wake();
  }

  async #handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    if (!m || m[1] !== this.token)
      return { status: 404, body: { ok: false, error_code: 404, description: 'Not Found' } };
    const method = m[2];
    const { params, files } = await readParams(req);
    const call: BotApiCall = { method, params, files, at: Date.now(), status: 200 };
    const answer = await this.#answer(method, params, files);
    call.status = answer.status;
    if (method !== 'getUpdates') this.calls.push(call);
    return answer;
  }

  async #answer(
    method: string,
    params: Record<string, unknown>,
    files: Record<string, Buffer>,
  ): Promise<{ status: number; body: unknown }> {
    const chatId = params.chat_id === undefined ? undefined : String(params.chat_id);
    const failure = this.#failures.find(
      (f) => f.times > 0 && f.method === method && (f.chatId === undefined || f.chatId === chatId),
    );
    if (failure) {
      failure.times--;
      return error(failure.status, failure.description, failure.retryAfter);
    }
    if (chatId !== undefined && /^send|^edit/.test(method) && this.#blocked.has(chatId))
      return error(403, this.#blocked.get(chatId)!);
    const date = Math.floor(Date.now() / 1000);
    const message = (extra: Record<string, unknown>) =>
      ok({
        message_id: this.#nextMessageId++,
        date,
        chat: { id: Number(chatId), type: 'private' },
        from: BOT_USER,
        ...extra,
      });
    switch (method) {
      case 'getMe':
        return ok(BOT_USER);
      case 'getUpdates':
        return ok(await this.#poll(Number(params.offset ?? 0), Math.min(Number(params.timeout ?? 0), 1)));
      case 'sendMessage': {
        const refusal = webAppButtonRefusal(params.reply_markup, this.#chatTypes.get(chatId ?? ''));
        return refusal ? error(400, refusal) : message({ text: params.text });
      }
      case 'sendPhoto':
        if (files.photo?.subarray(1, 4).toString() !== 'PNG')
          return error(400, 'Bad Request: photo must be a PNG file upload here');
        return message({
          photo: [{ file_id: 'p', file_unique_id: 'p', width: 640, height: 320 }],
          caption: params.caption,
        });
      case 'sendDocument':
        if (!files.document) return error(400, 'Bad Request: document must be a file upload here');
        return message({
          document: { file_id: 'd', file_unique_id: 'd', file_name: 'export.csv' },
          caption: params.caption,
        });
      case 'editMessageText':
        return message({ text: params.text });
      case 'getChat': {
        const chat = this.#chats.get(chatId?.startsWith('@') ? chatId.toLowerCase() : (chatId ?? ''));
        return chat ? ok(chat) : error(400, 'Bad Request: chat not found');
      }
      case 'getChatAdministrators': {
        const admins = this.#admins.get(chatId ?? '');
        if (!admins) return error(400, 'Bad Request: chat not found');
        return ok(
          admins.map((id) => ({ status: 'administrator', user: { id, is_bot: false, first_name: `user${id}` } })),
        );
      }
      case 'answerCallbackQuery':
      case 'setMyCommands':
      case 'deleteWebhook':
      case 'setWebhook':
      case 'sendChatAction':
        return ok(true);
      default:
        return error(400, `Bad Request: the fake does not implement ${method}`);
    }
  }

  async #poll(offset: number, timeoutS: number): Promise<unknown[]> {
    this.#updates = this.#updates.filter((u) => (u.update_id as number) >= offset);
    if (this.#updates.length === 0 && timeoutS > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutS * 1000);
        this.#pollWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.#updates.slice(0, 100);
  }
}

/** Telegram's rules for Mini App buttons: https URLs only, and only in private chats. */
function webAppButtonRefusal(markup: unknown, chatType: string | undefined): string | null {
  const rows = (markup as { inline_keyboard?: Array<Array<{ web_app?: { url?: unknown } }>> } | undefined)
    ?.inline_keyboard;
  const apps = (rows ?? []).flat().filter((b) => b.web_app !== undefined);
  if (apps.length === 0) return null;
  if (chatType !== undefined && chatType !== 'private') return 'Bad Request: BUTTON_TYPE_INVALID';
  const bad = apps.find((b) => typeof b.web_app?.url !== 'string' || !b.web_app.url.startsWith('https://'));
  return bad ? 'Bad Request: inline keyboard button Web App URL is invalid: Only HTTPS links are allowed' : null;
}

function ok(result: unknown) {
  return { status: 200, body: { ok: true, result } };
}

function error(status: number, description: string, retryAfter?: number) {
  return {
    status,
    body: {
      ok: false,
      error_code: status,
      description,
      ...(retryAfter ? { parameters: { retry_after: retryAfter } } : {}),
    },
  };
}

async function readParams(
  req: IncomingMessage,
): Promise<{ params: Record<string, unknown>; files: Record<string, Buffer> }> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/json'))
    return { params: body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {}, files: {} };
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  if (!boundary) return { params: {}, files: {} };
  return parseMultipart(body, boundary[1] ?? boundary[2]);
}

/** Just enough multipart/form-data for grammY's uploads: text fields and files. */
function parseMultipart(
  body: Buffer,
  boundary: string,
): { params: Record<string, unknown>; files: Record<string, Buffer> } {
  const params: Record<string, unknown> = {};
  const files: Record<string, Buffer> = {};
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const content = part.subarray(headerEnd + 4);
    const name = /name="([^"]+)"/.exec(headers)?.[1];
    if (name) {
      if (/filename=/.test(headers)) files[name] = Buffer.from(content);
      else {
        const text = content.toString('utf8');
        params[name] = /^[[{]/.test(text) ? JSON.parse(text) : text;
      }
    }
    start = next;
  }
  // grammY sends an attached file as a field naming it ("attach://<id>"): map it back to the field.
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === 'string' && v.startsWith('attach://') && files[v.slice(9)]) files[k] = files[v.slice(9)];
  }
  return { params, files };
}
