import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ChildJob } from './client-child.js';
import { childExecArgv } from './exec-argv.js';

const CHILD = fileURLToPath(new URL('./client-child.ts', import.meta.url));

/**
 * Runs `module`'s export `fn(args)` in a fresh Node process (`--expose-gc`, Berth loaded as in this one) and
 * returns what it measured. The process exits afterwards, so every measurement starts from an
 * empty heap and closes nothing it leaves behind in this one. `timeoutMs` bounds the run.
 */
export async function runIsolated(
  module: string,
  fn: string,
  args: unknown,
  options: { timeoutMs: number },
): Promise<Record<string, number>> {
  const child = fork(CHILD, [], {
    execArgv: childExecArgv({ exposeGc: true }),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  try {
    type Reply = [{ values?: Record<string, number>; error?: string }];
    const reply = Promise.race([
      once(child, 'message') as Promise<Reply>,
      exited.then((): Reply => [{ error: `client process exited before answering (timeout ${options.timeoutMs} ms?)` }]),
    ]);
    const job: ChildJob = { module, fn, args };
    child.send(job);
    const [message] = await reply;
    if (message.values === undefined) throw new Error(`isolated ${fn} failed: ${message.error ?? 'no values'}`);
    return message.values;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
      if (child.connected) child.disconnect();
      else child.kill();
      await exited;
    }
  }
}
