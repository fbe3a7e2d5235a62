import { describe, expect, it } from 'vitest';
import { Api, errors } from 'telegram';
import { RPCMessageToError } from 'telegram/errors/index.js';
import { classifyRpcFailure } from './rpc-errors.ts';

/** The error gramjs raises for an RPC error Telegram answers (its own conversion). */
function rpc(message: string, code = 400): unknown {
  return RPCMessageToError(new Api.RpcError({ errorCode: code, errorMessage: message }), new Api.updates.GetState());
}

describe('what a failed MTProto call means', () => {
  it.each([
    [rpc('FLOOD_WAIT_30', 420), { kind: 'flood', seconds: 30 }],
    [rpc('FLOOD_PREMIUM_WAIT_7', 420), { kind: 'flood', seconds: 7 }],
    [rpc('STATS_MIGRATE_4', 303), { kind: 'migrate', dcId: 4 }],
    [rpc('CHANNEL_PRIVATE'), { kind: 'channel_gone' }],
    [rpc('CHANNEL_INVALID'), { kind: 'channel_gone' }],
    [rpc('CHAT_ADMIN_REQUIRED'), { kind: 'no_rights' }],
    [rpc('AUTH_KEY_UNREGISTERED', 401), { kind: 'auth' }],
    [rpc('SESSION_REVOKED', 401), { kind: 'auth' }],
    [rpc('RPC_CALL_FAIL', 500), { kind: 'transient' }],
    [rpc('INTERNAL_SERVER_ERROR', 500), { kind: 'transient' }],
    [rpc('LIMIT_INVALID'), { kind: 'refused' }],
    ['Maximum reconnection retries reached. Aborting!', { kind: 'transient' }],
    [new Error('Not connected'), { kind: 'transient' }],
  ])('%s → %o', (err, expected) => {
    expect(classifyRpcFailure(err)).toMatchObject(expected);
  });

  it('reads gramjs’s FloodWaitError class too', () => {
    expect(rpc('FLOOD_WAIT_30', 420)).toBeInstanceOf(errors.FloodWaitError);
  });
});
