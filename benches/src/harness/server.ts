import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { childExecArgv } from './exec-argv.js';
import type { ServerKind } from './server-child.js';

/** A bench server in its own process. */
export interface ServerProcess {
  /** Loopback port. */
  readonly port: number;
  /** Origin, e.g. `https://127.0.0.1:40123`. */
  readonly origin: string;
  /** The server process's CPU time so far, in microseconds. */
  cpuMicros(): Promise<number>;
  /** Stops the process. */
  close(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url));

/** Forks a server of `kind` (through tsx, Berth loaded as in this process) and waits for its port. */
export async function startServerProcess(
  kind: ServerKind,
  options: { maxConcurrentStreams?: number } = {},
): Promise<ServerProcess> {
  const child: ChildProcess = fork(CHILD, [], {
    execArgv: childExecArgv(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const reply = once(child, 'message') as Promise<[{ port?: number; error?: string }]>;
  child.send({ cmd: 'start', kind, ...options });
  const [message] = await reply;
  if (message.port === undefined) {
    child.kill();
    throw new Error(`bench server ${kind} failed to start: ${message.error ?? 'no port'}`);
  }
  const scheme = kind === 'wss' ? 'wss' : 'https';
  return {
    port: message.port,
    origin: `${scheme}://127.0.0.1:${message.port}`,
    async cpuMicros() {
      const answer = once(child, 'message') as Promise<[{ cpuMicros: number }]>;
      child.send({ cmd: 'cpu' });
      return (await answer)[0].cpuMicros;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    },
  };
}
