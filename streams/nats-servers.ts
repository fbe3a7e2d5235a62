/**
 * TGPULSE_NATS_URL names the servers and, optionally, the credentials:
 * `nats://user:password@host:4222,nats://host2:4222`. The nats.js client does
 * not read credentials from a URL, so they are taken out here and passed as
 * connect options (logs show the URL through common's redactUrl).
 */
export interface NatsServers {
  servers: string[];
  user?: string;
  pass?: string;
}

/** Server addresses and the credentials of the first URL that carries any (one user for the cluster). */
export function natsServers(url: string): NatsServers {
  const out: NatsServers = { servers: [] };
  for (const raw of url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = userinfoOf(raw);
    if (at === null) {
      out.servers.push(raw);
      continue;
    }
    const { scheme, userinfo, rest } = at;
    out.servers.push(`${scheme}${rest}`);
    if (out.user === undefined) {
      const colon = userinfo.indexOf(':');
      out.user = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
      if (colon >= 0) out.pass = decodeURIComponent(userinfo.slice(colon + 1));
    }
  }
  return out;
}

function userinfoOf(raw: string): { scheme: string; userinfo: string; rest: string } | null {
  const m = /^((?:[a-z]+:\/\/)?)([^@/]*)@(.+)$/i.exec(raw);
  return m ? { scheme: m[1], userinfo: m[2], rest: m[3] } : null;
}
