import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Stopping } from './stopping.ts';
import { workerStopDeadlineS } from './workers.ts';

describe('what a stopping process still waits for', () => {
  it('names the roles still running and the resource being closed', async () => {
    const s = new Stopping();
    let finishSink!: () => void;
    let failProcess!: (err: Error) => void;
    const sink = s.role('sink', new Promise<void>((resolve) => (finishSink = resolve)));
    const proc = s.role('process', new Promise<void>((_, reject) => (failProcess = reject)));
    expect(s.pending()).toEqual(['roles sink, process']);
    finishSink();
    await sink;
    expect(s.pending()).toEqual(['role process']);
    failProcess(new Error('lease lost'));
    await expect(proc).rejects.toThrow('lease lost');
    expect(s.pending()).toEqual([]);
    s.closing('the warehouse connection');
    expect(s.pending()).toEqual(['closing the warehouse connection']);
    s.closing(null);
    expect(s.pending()).toEqual([]);
  });

  it('kills the child processes it was given, with their process groups, and forgets them once gone', async () => {
    const s = new Stopping();
    const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_, signal) => resolve(signal)));
    s.adoptChild('a sleeper', child);
    let gone = false;
    s.adopt('a process already gone', () => (gone ? undefined : 2 ** 22 + 1));
    gone = true;
    expect(s.killChildren()).toEqual([`a sleeper (pid ${child.pid})`]);
    expect(await exited).toBe('SIGKILL');
    expect(s.killChildren()).toEqual([]);
  });
});

describe("a worker's stop deadline", () => {
  it('leaves the parent the rest of its own for closing what the workers wrote through', () => {
    expect(workerStopDeadlineS(25_000)).toBe(15);
    expect(workerStopDeadlineS(4000)).toBe(2);
    expect(workerStopDeadlineS(1000)).toBe(1);
  });
});
