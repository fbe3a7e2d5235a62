/**
 * What a stopping process still waits for: the roles that have not returned,
 * the resource being closed, and the child processes it runs (workers, the
 * private nats-server, the local warehouse). The stop deadline names what it
 * abandons from here, and kills the children: each runs in a process group of
 * its own (so Ctrl-C reaches the parent alone), and must not outlive it.
 */
import type { ChildProcess } from 'node:child_process';

export class Stopping {
  readonly #roles = new Map<string, number>();
  #closing: string | null = null;
  readonly #children = new Map<number, { name: string; pid: () => number | undefined }>();
  #nextChild = 0;

  /** Counts the role `name` as running until `run` settles. */
  role<T>(name: string, run: Promise<T>): Promise<T> {
    this.#roles.set(name, (this.#roles.get(name) ?? 0) + 1);
    return run.finally(() => {
      const left = (this.#roles.get(name) ?? 1) - 1;
      if (left > 0) this.#roles.set(name, left);
      else this.#roles.delete(name);
    });
  }

  /** The resource being closed now; null once the closing is done. */
  closing(what: string | null): void {
    this.#closing = what;
  }

  /**
   * A child process to kill at the deadline, as long as `pid()` names one
   * (undefined once it exited). Returns the function that forgets it.
   */
  adopt(name: string, pid: () => number | undefined): () => void {
    const key = this.#nextChild++;
    this.#children.set(key, { name, pid });
    return () => void this.#children.delete(key);
  }

  /** {@link adopt} for a child process object: forgotten once it exits. */
  adoptChild(name: string, child: ChildProcess): void {
    const release = this.adopt(name, () =>
      child.exitCode === null && child.signalCode === null ? child.pid : undefined,
    );
    child.once('exit', release);
  }

  /** The work that has not finished, in words: `["roles process, sink", "closing the warehouse connection"]`. */
  pending(): string[] {
    const out: string[] = [];
    if (this.#roles.size)
      out.push(`${this.#roles.size === 1 ? 'role' : 'roles'} ${[...this.#roles.keys()].join(', ')}`);
    if (this.#closing !== null) out.push(`closing ${this.#closing}`);
    return out;
  }

  /** SIGKILLs every adopted child that still runs, with its process group; returns what it killed. */
  killChildren(): string[] {
    const killed: string[] = [];
    for (const { name, pid } of this.#children.values()) {
      const p = pid();
      if (p === undefined || p <= 0) continue;
      if (signal(-p) || signal(p)) killed.push(`${name} (pid ${p})`);
    }
    return killed;
  }
}

/** SIGKILL to a process (or, negative, a process group); false when there is none. */
function signal(target: number): boolean {
  try {
    process.kill(target, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}
